"""What a run holds while it completes its folder: the rendered prompts go once every call is
answered (with the token counts remembered for their long texts), the parsed cases once they are scored (at 2,000 cases they were ~40 MB and ~55 MB of the
run's peak). Checked by counting the live objects when ``complete_run`` starts."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


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
