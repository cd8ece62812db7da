"""What a run holds while it completes its folder: the rendered prompts go once every call is
answered (with the token counts remembered for their long texts), the parsed cases once they are scored (at 2,000 cases they were ~40 MB and ~55 MB of the
run's peak). Checked by counting the live objects when ``complete_run`` starts."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@contextmanager
def _server_process() -> Iterator[str]:
    """The loopback server (``python -m evalkit.testing``) in its own process; its OpenAI base URL."""
    proc = subprocess.Popen([sys.executable, "-m", "evalkit.testing"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("PORT "), line
        yield f"http://127.0.0.1:{int(line.split()[1])}/v1"
    finally:
        proc.stdin.close()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


def _live(kind: type) -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, kind))


@pytest.mark.parametrize("limit", [60, None], ids=["sampled", "whole-dataset"])
def test_prompts_and_cases_are_released_before_the_run_folder_is_completed(tmp_path, monkeypatch, limit):
    import evalkit.run._finish as finish
    from evalkit import _tokens
    from evalkit.dataset import generate_dataset
    from evalkit.pipeline import RunRequest, run_suite
    from evalkit.run import PlannedCall
    from evalkit.tasks.upgrades._model import Case

    monkeypatch.setenv("EVALKIT_HOME", str(tmp_path / "home"))
    store = tmp_path / "datasets"
    generate_dataset("upgrades", n=90, seed=3, name="small", store=store)
    suite = tmp_path / "suite.yaml"
    (tmp_path / "upgrade.j2").write_text((REPO / "suites/prompts/upgrade-v1.j2").read_text(encoding="utf-8"),
                                         encoding="utf-8")
    suite.write_text(
        "name: memory\ntask: upgrades\ndataset: small@v1\nseed: 7\nconfigs:\n"
        "  - {name: a, provider: sim, model: large, prompt: upgrade.j2}\n"
        "  - {name: b, provider: sim, model: small, prompt: upgrade.j2}\n", encoding="utf-8")
    seen: dict[str, int] = {}
    real = finish.complete_run

    def spy(*args, **kwargs):
        seen.update(calls=_live(PlannedCall), cases=_live(Case), counted=_tokens._count_repeated.cache_info().currsize)
        return real(*args, **kwargs)

    monkeypatch.setattr(finish, "complete_run", spy)
    outcome = run_suite(RunRequest(suite_path=suite, reports=tmp_path / "reports", datasets=store, limit=limit,
                                   progress=False))
    expected_cases = limit or 90
    assert outcome.manifest["counts"]["cases"] == expected_cases  # the count survives the cases
    assert outcome.manifest["counts"]["calls"] == 2 * expected_cases
    assert seen == {"calls": 0, "cases": 0, "counted": 0}  # the long texts' remembered counts went too


def test_a_large_run_of_real_models_lets_go_of_the_tokenizer_and_its_report_still_shows_prompts(tmp_path,
                                                                                              monkeypatch):
    """From 400 planned calls with no offline provider, the run's process drops the tokenizer once it has
    planned (~45 MB while it sends, scores and reports); the report re-renders its drill-down prompts in a
    forked child, so the process never loads it again, and the prompts are still there."""
    import re

    import evalkit.run._finish as finish
    from evalkit import _tokens
    from evalkit.pipeline import RunRequest, post_run, run_suite
    from evalkit.report._casedata import _truncate, unpack

    monkeypatch.setenv("EVALKIT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EVALKIT_DATASETS", str(REPO / "datasets"))
    monkeypatch.setenv("EVALKIT_TEST_KEY", "sk-test-memory")
    (tmp_path / "upgrade.j2").write_text((REPO / "suites/prompts/upgrade-v1.j2").read_text(encoding="utf-8"),
                                         encoding="utf-8")
    seen: dict[str, bool] = {}
    real = finish.complete_run

    def spy(*args, **kwargs):
        seen["loaded"] = _tokens.encoder_loaded()
        return real(*args, **kwargs)

    monkeypatch.setattr(finish, "complete_run", spy)
    with _server_process() as base_url:  # its own process: an in-process server's model would count tokens here
        suite = tmp_path / "suite.yaml"
        suite.write_text(
            "name: memory-real\ntask: upgrades\ndataset: upgrades@v1\nseed: 7\nexecution: {concurrency: 32}\n"
            "configs:\n  - {name: served, provider: openai, model: large, prompt: upgrade.j2, "
            f"options: {{base_url: '{base_url}', api_key_env: EVALKIT_TEST_KEY}}}}\n", encoding="utf-8")
        outcome = run_suite(RunRequest(suite_path=suite, reports=tmp_path / "reports", limit=400, progress=False),
                            evaluating=True)
    assert outcome.manifest["counts"]["calls"] == 400 and outcome.manifest["tokenizer"] == "o200k_base"
    assert seen == {"loaded": False}
    post_run(outcome, baseline=None, verbose=False)
    assert not _tokens.encoder_loaded()  # the report's prompts were rendered in a child
    html = (outcome.run_dir / "report.html").read_text(encoding="utf-8")
    data = unpack(re.search(r'id="case-data">(.*?)</script>', html, re.DOTALL).group(1))
    notes = [d["pnote"] for d in data["det"]]
    assert notes.count("re-rendered from the stored template") == min(50, sum(r[3] != "improved" for r in data["rows"]))
    from evalkit.run import render_case_prompt  # the child rendered exactly what the run sent

    i = notes.index("re-rendered from the stored template")
    case_id = data["rows"][i][1]
    expected = "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in render_case_prompt(outcome.run_dir, "served", case_id))
    assert data["det"][i]["prompt"] == _truncate(expected)
