"""Helpers for the batch-mode tests: suites written on the fly against the loopback server, run
through the CLI (a subprocess: exit codes and console as a user sees them) or in-process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
KEY = "sk-test-batch-runs"


def config(name: str, provider: str, model: str, base_url: str, *, extra: str = "") -> str:
    return f"""  - name: {name}
    provider: {provider}
    model: {model}
    prompt: prompts/upgrade-v1.j2
    params: {{temperature: 0{extra}}}
    options: {{base_url: "{base_url}", api_key_env: EVALKIT_TEST_KEY}}
"""


def write_suite(folder: Path, configs: str, *, name: str = "batched", execution: str = "",
                dataset: str = "upgrades@v2") -> Path:
    (folder / "prompts").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "suites" / "prompts" / "upgrade-v1.j2", folder / "prompts" / "upgrade-v1.j2")
    path = folder / f"{name}.yaml"
    path.write_text(f"name: {name}\ntask: upgrades\ndataset: {dataset}\nseed: 3\nconfigs:\n{configs}"
                    f"execution: {{mode: batch, batch_poll_s: 0.02, max_attempts: 2{execution}}}\n")
    return path


def env(home: Path) -> dict[str, str]:
    return {**os.environ, "EVALKIT_HOME": str(home), "EVALKIT_DATASETS": str(REPO / "datasets"),
            "EVALKIT_TEST_KEY": KEY, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}


def cli(args: list[str], home: Path, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evalkit.cli.main", *args], env=env(home), capture_output=True,
                          text=True, timeout=600, check=False, **kw)


def popen(args: list[str], home: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "evalkit.cli.main", *args], env=env(home),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def ledger(run_dir: Path) -> list[dict]:
    path = run_dir / "batches.jsonl"
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip().endswith("}")]


def manifest(run_dir: Path) -> dict:
    return json.loads((run_dir / "manifest.json").read_text())
