"""`evalkit run --max-cost` counts the LLM judge's calls in the up-front estimate: a run whose
configurations fit the budget but whose judge would pass it is refused before its first call (it
was refused only after every configuration's call was paid for), the refusal shows the
configurations' and the judge's parts, and a judge whose price is unknown cannot be guarded (refused,
never counted as $0). Real SDKs, real HTTP, a loopback-served judge."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from evalkit.providers import ModelResponse, Usage, sim_respond
from evalkit.testing import LoopbackServer, write_loopback_suite

REPO = Path(__file__).resolve().parents[2]
KEY = "sk-test-judge-budget-0000"
JUDGE_SYSTEM_START = "You are a senior reviewer"


def responder(request):
    """The simulated model for the configuration; a verdict for the judge."""
    if request.messages and request.messages[0].content.startswith(JUDGE_SYSTEM_START):
        return ModelResponse(text='{"good": true, "reason": "fits the rubric"}',
                             usage=Usage(input_tokens=400, output_tokens=20), model_version=request.model)
    return sim_respond(request)


def write_suite(tmp: Path, srv: LoopbackServer, *, judge_model: str, limit: int = 6) -> Path:
    suite = write_loopback_suite(tmp, prompt=REPO / "suites" / "prompts" / "upgrade-v1.j2",
                                 base_url=srv.openai_base_url, name="judge-budget", limit=limit)
    with suite.open("a", encoding="utf-8") as fh:
        fh.write(f"""scoring:
  judge:
    provider: openai
    model: {judge_model}
    options: {{base_url: "{srv.openai_base_url}", api_key_env: EVALKIT_TEST_KEY}}
""")
    return suite


def evalkit(args: list[str], cwd: Path, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "EVALKIT_HOME": str(home), "EVALKIT_DATASETS": str(REPO / "datasets"),
           "EVALKIT_TEST_KEY": KEY, "PYTHONPATH": str(REPO / "src"), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "evalkit.cli.main", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def parts(stderr: str) -> tuple[float, float]:
    """(configurations, judge) from the refusal message."""
    text = " ".join(stderr.split())
    found = re.search(r"configurations \$([0-9.]+) \(.*?\) \+ LLM judge \$([0-9.]+) \((\d+) call", text)
    assert found, stderr
    return float(found.group(1)), float(found.group(2))


def test_a_judge_that_would_pass_the_budget_is_refused_before_the_first_call(tmp_path):
    home, reports = tmp_path / "home", tmp_path / "reports"
    with LoopbackServer(responder=responder) as srv:
        suite = write_suite(tmp_path, srv, judge_model="gpt-4o")
        tiny = evalkit(["run", str(suite), "--quiet", "--max-cost", "0.000001", "--reports", str(reports)],
                       tmp_path, home)
        assert tiny.returncode == 3, tiny.stderr
        configs, judge = parts(tiny.stderr)
        assert configs > 0 and judge > 0
        assert "served $" in tiny.stderr  # the configuration's own line

        # Enough for the configurations, not for the judge as well: refused up front, nothing sent.
        budget = configs + judge / 2
        proc = evalkit(["run", str(suite), "--quiet", "--max-cost", f"{budget:.6f}", "--reports", str(reports)],
                       tmp_path, home)
        assert proc.returncode == 3, proc.stdout + proc.stderr
        assert srv.log == [], "calls were paid for before the budget refused the run"
        assert parts(proc.stderr) == (configs, judge)
        assert "exceeds max_cost_usd" in proc.stderr and "Traceback" not in proc.stderr
        assert not reports.exists() or not any(reports.iterdir())  # no run folder is left

        # A budget that holds both runs, and the judge grades every answer.
        ok = evalkit(["run", str(suite), "--quiet", "--max-cost", f"{20 * (configs + judge):.6f}",
                      "--reports", str(reports)], tmp_path, home)
        assert ok.returncode in (0, 1), ok.stdout + ok.stderr
        judged = [h for h in srv.log if h.status == 200]
        assert len(judged) > 6  # the configuration's 6 answers, then the judge's calls


def test_a_judge_without_a_known_price_cannot_be_guarded(tmp_path):
    home, reports = tmp_path / "home", tmp_path / "reports"
    with LoopbackServer(responder=responder) as srv:
        suite = write_suite(tmp_path, srv, judge_model="loopback-judge-without-a-price")
        proc = evalkit(["run", str(suite), "--quiet", "--max-cost", "100", "--reports", str(reports)], tmp_path, home)
        assert proc.returncode == 3, proc.stdout + proc.stderr
        assert srv.log == []
        text = " ".join(proc.stderr.split())
        assert "the LLM judge" in text and "no known price" in text and "not $0" in text, proc.stderr
        assert "Traceback" not in proc.stderr
        # Without --max-cost nothing needs guarding: the run goes ahead.
        free = evalkit(["run", str(suite), "--quiet", "--reports", str(reports)], tmp_path, home)
        assert free.returncode in (0, 1), free.stdout + free.stderr


def test_the_judges_worst_case_is_bounded_by_its_own_max_tokens(tmp_path):
    """A judge with ``params.max_tokens: 300`` was reserved at its model's 16,384-token output limit: under a
    budget that held the estimate, every configuration's call was paid, then the run stopped (exit 3) as the
    judge's first call 'could not be held'."""
    home, reports = tmp_path / "home", tmp_path / "reports"
    with LoopbackServer(responder=responder) as srv:
        suite = write_suite(tmp_path, srv, judge_model="gpt-4o")
        suite.write_text(suite.read_text() + "    params: {max_tokens: 300}\n")
        tiny = evalkit(["run", str(suite), "--quiet", "--max-cost", "0.000001", "--reports", str(reports)],
                       tmp_path, home)
        configs, judge = parts(tiny.stderr)
        from evalkit.pricing import lookup_price, output_limit

        uncapped = output_limit("gpt-4o") * lookup_price("gpt-4o").output  # one judge call's old worst case
        budget = configs + judge + uncapped / 2  # holds the estimate, and a judge call capped at 300 tokens
        proc = evalkit(["run", str(suite), "--quiet", "--max-cost", f"{budget:.6f}", "--reports", str(reports)],
                       tmp_path, home)
        assert proc.returncode in (0, 1), proc.stdout + proc.stderr
        judged = [h for h in srv.log if h.status == 200]
        assert len(judged) > 6  # the configuration's 6 answers, then the judge's calls


def test_a_judge_stopped_by_the_budget_leaves_a_stopped_run_that_says_how_to_resume(tmp_path):
    """A judge without max_tokens is held at its model's 16k output limit: a budget that holds the estimate
    but not one such call stops the judge after the configurations were paid. The run folder said
    'running' (nothing marked it) and no resume command was printed."""
    import json

    home, reports = tmp_path / "home", tmp_path / "reports"
    with LoopbackServer(responder=responder) as srv:
        suite = write_suite(tmp_path, srv, judge_model="gpt-4o")
        tiny = evalkit(["run", str(suite), "--quiet", "--max-cost", "0.000001", "--reports", str(reports)],
                       tmp_path, home)
        configs, judge = parts(tiny.stderr)
        proc = evalkit(["run", str(suite), "--quiet", "--max-cost", f"{2 * (configs + judge):.6f}",
                        "--reports", str(reports)], tmp_path, home)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "#judge" in proc.stderr and "resume with: evalkit run --resume" in proc.stderr, proc.stderr
    (run_dir,) = [p for p in reports.iterdir() if (p / "manifest.json").is_file()]
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "stopped" and "#judge" in manifest["message"]


def test_a_simulated_judge_is_no_money_either(tmp_path):
    """The demo's simulated judge was refused by a one-cent budget after the run's simulated answers, whose
    journaled spend its ledger counted as real: exit 3, the run left 'running'."""
    proc = evalkit(["run", "suites/upgrades-demo.yaml", "--config", "large-v1", "--limit", "40", "--quiet",
                    "--max-cost", "0.01", "--reports", str(tmp_path / "r")], REPO, tmp_path / "home")
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    (run_dir,) = [p for p in (tmp_path / "r").iterdir() if p.is_dir()]
    assert (run_dir / "judge.json").is_file() and (run_dir / "report.html").is_file()
