"""Charts drawn by the chart worker (matplotlib imported in a forked process while a run works)
are the same SVG as charts drawn in the report's own process."""

from __future__ import annotations

import os

import pytest
from markupsafe import Markup

from evalkit._forked import can_fork
from evalkit.report import _charts
from evalkit.report._charts import PendingChart, chart_worker, draw

SPEND = [("baseline", 120.0, 130.0, 180.0), ("candidate (simulated)", 90.0, 95.0, 140.0)]


def _drawn_in(*_args, **_kwargs) -> str:
    return str(os.getpid())


@pytest.mark.skipif(not can_fork(), reason="needs fork and two cores")
def test_the_worker_draws_the_same_svg_in_another_process():
    inline = _charts.spend_chart(SPEND, salt="t")
    with chart_worker():
        pid = draw(_drawn_in)
        pending = draw(_charts.spend_chart, SPEND, salt="t")
        assert isinstance(pending, PendingChart) and pending  # the report goes on while it is drawn
        assert str(Markup(pending)) == inline  # rendering waits for the same SVG
        assert str(pid) != str(os.getpid())
    assert draw(_drawn_in) == str(os.getpid())  # outside the block: drawn here
    assert "<svg" in inline and "candidate (simulated)" in inline


def _fails(*_args, **_kwargs) -> str:
    if os.environ.get("EVALKIT_CHART_TEST_PARENT") != str(os.getpid()):
        raise RuntimeError("only the run's process can draw this")
    return "<svg>drawn here</svg>"


@pytest.mark.skipif(not can_fork(), reason="needs fork and two cores")
def test_a_chart_the_process_fails_is_drawn_here(monkeypatch):
    monkeypatch.setenv("EVALKIT_CHART_TEST_PARENT", str(os.getpid()))
    with chart_worker():
        first, second = draw(_fails), draw(_charts.spend_chart, SPEND, salt="t")
        assert str(first) == "<svg>drawn here</svg>"
        assert "<svg" in str(second)  # the process goes on with the next chart


def _unpicklable_result() -> object:
    return lambda: None


def test_a_chart_the_worker_cannot_return_is_drawn_here():
    with chart_worker():
        assert callable(draw(_unpicklable_result).__html__())


def test_chart_jobs_need_nothing_the_chart_process_has_not_imported(report_runs, tmp_path):
    """The chart process is forked before the report's modules and pandas load: a job that names a
    chart defined elsewhere, or carries a DataFrame, would import them there while the report waits."""
    import pickle
    import subprocess
    import sys

    from evalkit.report import build_report

    jobs: list[bytes] = []

    class Recording:
        def submit(self, chart, args, kwargs):
            jobs.append(pickle.dumps((chart, args, kwargs)))
            return len(jobs) - 1

    token = _charts._WORKER.set(Recording())
    try:
        build_report([report_runs["cand"]], out=tmp_path / "report.html", baseline=report_runs["base"],
                     max_prompts=5)
    finally:
        _charts._WORKER.reset(token)
    charts = {pickle.loads(job)[0].__name__ for job in jobs}
    assert {"reliability_chart", "risk_coverage_chart", "cost_chart", "spend_chart", "frontier_chart"} <= charts
    (tmp_path / "jobs.pickle").write_bytes(pickle.dumps(jobs))
    probe = (
        "import pickle, sys\n"
        "import evalkit.report._charts\n"
        "before = set(sys.modules)\n"
        f"for job in pickle.loads(open({str(tmp_path / 'jobs.pickle')!r}, 'rb').read()): pickle.loads(job)\n"
        "print(sorted(set(sys.modules) - before))\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", f"unpickling the report's chart jobs imported: {out}"
