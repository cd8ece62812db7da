"""Planning shared with forked workers plans exactly the calls one process plans, in order."""

from __future__ import annotations

import pytest

from evalkit._forked import can_fork
from evalkit.run import _plan
from evalkit.run._plan import ConfigPlan, plan_configs
from evalkit.suite import ConfigSpec, load_template
from evalkit.tasks.upgrades import task

pytestmark = pytest.mark.skipif(not can_fork(), reason="needs fork and two cores")


def _jobs(tmp_path):
    (tmp_path / "p.j2").write_text("{{ policy | length }} clauses\n---\n{{ history_text }}\n{{ message }}\n")
    template = load_template(tmp_path / "p.j2")
    configs = [ConfigSpec(name="short", provider="sim", model="large", prompt="p.j2",
                          context={"max_history_turns": 2}, samples=2),
               ConfigSpec(name="long", provider="sim", model="large", prompt="p.j2"),
               ConfigSpec(name="long-again", provider="sim", model="small", prompt="p.j2")]
    return [ConfigPlan(config=c, template=template, endpoint=None, seeded=True) for c in configs]


def test_parallel_planning_matches_one_process(tmp_path, monkeypatch):
    cases = list(task.generate(240, 11))
    jobs = _jobs(tmp_path)
    monkeypatch.setattr(_plan, "PARALLEL_MIN_CALLS", 10**9)
    serial = plan_configs(jobs, cases, task, response_schema=None, seed=5)
    monkeypatch.setattr(_plan, "PARALLEL_MIN_CALLS", 10)
    parallel = plan_configs(jobs, cases, task, response_schema=None, seed=5)
    assert parallel == serial
    calls, info = parallel[0]
    assert [c.case_id for c in calls[:4]] == [cases[0].case_id] * 2 + [cases[1].case_id] * 2  # samples together
    assert list(info) == [c.case_id for c in cases]
    assert {c.request.params.get("seed") for c in parallel[1][0]} == {5}
