"""Prompts longer than their model's context window are said before anything is sent: a real
provider refuses them, and a simulated model's answer to a 1.2M-token prompt says nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from evalkit.pricing import context_window, litellm_price_map_path
from evalkit.run._plan import oversized_prompts

REPO = Path(__file__).resolve().parents[2]


def test_the_context_window_is_the_bundled_maps_max_input_tokens():
    table = json.loads(litellm_price_map_path().read_text())
    assert context_window("gpt-4o") == table["gpt-4o"]["max_input_tokens"] > 0
    assert context_window("openai/gpt-4o") == context_window("gpt-4o")  # a litellm-style provider prefix
    assert context_window("no-such-model-xyz") is None


def test_only_configurations_with_prompts_over_their_window_are_warned_about():
    calls = [SimpleNamespace(config=cfg, est_input_tokens=tokens, case_id=f"c{i}")
             for i, (cfg, tokens) in enumerate([("a", 100), ("a", 5000), ("a", 9000), ("b", 9000), ("c", 10**7)])]
    warnings = oversized_prompts(calls, {"a": ("m-a", 4096), "b": ("m-b", 10_000), "c": ("m-c", None)})
    assert len(warnings) == 1  # b fits, c's window is unknown
    assert "configuration a: 2 prompt(s) exceed m-a's context window of 4,096" in warnings[0]
    assert "about 9,000, case c2" in warnings[0]


def test_a_run_says_so_on_stderr_before_it_sends(tmp_path):
    """One case whose history is ~5 MB of text, through a configuration priced as gpt-4o-mini."""
    from evalkit.dataset import load_dataset

    first = load_dataset("upgrades@v2", store=REPO / "datasets").cases[0].model_dump(mode="json")
    first["request"]["message"] += " We need more seats." * 250_000  # ~5 MB: ~1.25M tokens by estimate
    rows = tmp_path / "cases.jsonl"
    rows.write_text(json.dumps(first) + "\n")
    env = {**os.environ, "EVALKIT_HOME": str(tmp_path / "home"), "EVALKIT_DATASETS": str(tmp_path / "store")}
    cli = [sys.executable, "-m", "evalkit.cli.main"]
    done = subprocess.run([*cli, "dataset", "import", str(rows), "--name", "huge", "--version", "v1"], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    suite = (REPO / "suites" / "upgrades-demo.yaml").read_text()
    import shutil

    shutil.copytree(REPO / "suites" / "prompts", tmp_path / "prompts")
    (tmp_path / "suite.yaml").write_text(suite.replace("dataset: upgrades@v2", "dataset: huge@v1"))
    done = subprocess.run([*cli, "run", str(tmp_path / "suite.yaml"), "--config", "small-v1", "--config", "rules",
                           "--reports", str(tmp_path / "reports"), "--quiet"], env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    assert "warning: configuration small-v1: 1 prompt(s) exceed gpt-4o-mini's context window" in done.stderr, \
        done.stderr
    assert "configuration rules" not in done.stderr  # the rules baseline has no model, no window
