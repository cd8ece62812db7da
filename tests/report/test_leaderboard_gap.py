"""The leaderboard's gap (correct but not good) is the run's own figure: Newcombe's paired interval from
summary.json, as the console shows it, not a Wilson interval of its own."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from evalkit.report._assemble import build_columns, leaderboard
from evalkit.runs import load_run
from evalkit.stats import wilson
from evalkit.testing._synthetic import write_synthetic_run


def _gap(run_dir):
    (row,) = leaderboard(build_columns([load_run(run_dir)], None))
    return row.gap


def test_gap_interval_is_the_runs_paired_newcombe_interval(tmp_path):
    from evalkit.score import summarize

    run = write_synthetic_run(tmp_path / "run", run_id="20261121-120000-ci-gap000", configs={"prod": {}}, n_cases=300)
    computed = _gap(run)  # no summary.json: computed the same way evalkit.score does
    summarize(run, pd.read_parquet(run / "scores.parquet"), errors=[])
    stored = json.loads((run / "summary.json").read_text())["configs"]["prod"]["overall"]["gap"]
    shown = _gap(run)
    assert (shown.value, shown.lo, shown.hi, shown.n) == pytest.approx(
        (stored["value"], stored["lo"], stored["hi"], stored["n"]))
    assert (computed.value, computed.lo, computed.hi) == pytest.approx((shown.value, shown.lo, shown.hi))
    own = wilson(stored["k"], stored["n"])  # what the leaderboard used to show
    assert abs(own.lo - shown.lo) > 1e-4 or abs(own.hi - shown.hi) > 1e-4
