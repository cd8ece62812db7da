"""A second domain, as a real plugin: examples/refunds is installed (a wheel built from its
own pyproject, into a private folder) and run end to end through the CLI, with nothing in
evalkit changed for it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "examples" / "refunds"
CORE = [ROOT / "src" / "evalkit" / p for p in ("run", "score", "calibrate", "project", "report", "gate")]


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory) -> dict[str, str]:
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if uv is None:
        pytest.fail("uv is needed to build the plugin (the Makefile installs it into .venv)")
    target = tmp_path_factory.mktemp("plugin-site")
    subprocess.run([uv, "pip", "install", "-q", "--no-deps", "--target", str(target), "--python", sys.executable,
                    str(PLUGIN)], check=True, timeout=300)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(target), env.get("PYTHONPATH", "")) if p)
    env["EVALKIT_HOME"] = str(tmp_path_factory.mktemp("home"))
    env.pop("GITHUB_ACTIONS", None)
    return env


def _evalkit(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evalkit.cli.main", *args], env=env, capture_output=True, text=True, check=False,
                          timeout=600, cwd=ROOT)


def test_refunds_plugin_runs_end_to_end_with_a_report_and_a_gate_verdict(plugin_env, tmp_path):
    r = _evalkit(plugin_env, "run", str(PLUGIN / "suite.yaml"), "--reports", str(tmp_path), "--fresh")
    assert r.returncode == 0, r.stdout + r.stderr
    run_dir = next(p for p in tmp_path.iterdir() if p.is_dir())
    for name in ("report.html", "scores.parquet", "thresholds.json", "projection.json", "gates.json", "junit.xml"):
        assert (run_dir / name).is_file(), name
    gates = json.loads((run_dir / "gates.json").read_text())
    assert gates["passed"] is True and len(gates["results"]) >= 2
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["suite"]["spec"]["task"] == "refunds" and manifest["dataset"]["rows"] == 600

    import pandas as pd

    scores = pd.read_parquet(run_dir / "scores.parquet")
    assert set(scores["segment"]) == {"in_window", "late", "digital", "duplicate", "high_value", "repeat_refunder"}
    good = scores.groupby("config")["good"].mean()
    # the prompt without RF-5 stops sending repeat refunders to fraud review, so it is visibly worse
    assert good["large-no-fraud-check"] < good["large-v1"] - 0.1
    dropped = scores[(scores["config"] == "large-no-fraud-check") & (scores["segment"] == "repeat_refunder")]
    assert dropped["correct"].mean() < 0.2
    html = (run_dir / "report.html").read_text()
    assert "refunds-demo" in html and "simulated" in html.lower()


def test_refunds_prompt_variables_come_from_the_plugin(plugin_env):
    r = _evalkit(plugin_env, "suite", "vars", "refunds", "--json")
    assert r.returncode == 0, r.stderr
    assert [v["name"] for v in json.loads(r.stdout)] == ["policy", "facts", "message", "today", "schema"]


def test_the_core_knows_nothing_about_refunds():
    import re

    domain = re.compile(r"evalkit_refunds|[\"']refunds[\"']|refund_amount|repeat_refunder|in_window")
    hits = [str(p.relative_to(ROOT)) for pkg in CORE for p in pkg.rglob("*.py") if domain.search(p.read_text())]
    assert hits == []
