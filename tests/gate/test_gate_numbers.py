"""Gate outputs format numbers through evalkit.formatting: nothing that rounds to zero prints "-0.0", and
an interval whose bounds differ never prints as a point."""

from __future__ import annotations

from evalkit.gate import GateReport, GateResult, format_observed, summary_markdown
from evalkit.gate._numbers import format_value
from evalkit.stats import Estimate


def _result(unit: str, observed: Estimate | None, *, kind: str = "max_cost_p95_increase",
            details: tuple = ()) -> GateResult:
    return GateResult(name="g", kind=kind, config="prod", status="pass", observed=observed, limit=0.1,
                      message="m", unit=unit, details=details)  # type: ignore[arg-type]


def test_a_value_that_rounds_to_zero_has_no_sign():
    assert format_value(_result("relative", None), -0.0001) == "0.0%"
    assert format_value(_result("usd", None), -1e-9) == "$0.000000"
    assert format_value(_result("points", None), -0.0001) == "0.0 pts"
    assert format_value(_result("usd", None), 0.00012) == "+$0.000120"
    assert format_value(_result("relative", None), 0.2) == "+20.0%"


def test_a_narrow_interval_never_prints_as_a_point():
    rate = format_observed(_result("rate", Estimate(value=0.5, lo=0.49996, hi=0.50004, n=90000)))
    v, bounds = rate.split(" [95% CI ")
    lo, hi = bounds.split(" n=")[0].rstrip("]").split(", ")
    assert lo != hi and v == "50.000%", rate
    rel = format_observed(_result("relative", Estimate(value=-0.00004, lo=-0.0003, hi=0.0002, n=400)))
    assert rel == "0.00% [95% CI -0.03%, +0.02%] n=400", rel
    usd = format_observed(_result("usd", Estimate(value=1e-8, lo=-2e-7, hi=3e-7, n=400)))
    assert "-0.0" not in usd.split("[")[0] and usd.startswith("$0.0000000 [95% CI -$0.0000002, +$0.0000003]"), usd


def test_the_headline_delta_and_a_zero_cost_baseline_use_the_same_rules(tmp_path):
    report = GateReport(run_id="r", run_dir=tmp_path, baseline_run_id="b", results=(),
                        headline={"prod": {"good_rate": {"value": 0.9, "lo": 0.88, "hi": 0.92, "n": 1000},
                                           "good_rate_delta": -0.00004, "good_rate_delta_lo": -0.0003,
                                           "good_rate_delta_hi": 0.0002, "n_paired": 1000, "spent_usd": 1.0}})
    md = summary_markdown(report)
    assert "0.00 pts [95% CI -0.03 pts, +0.02 pts] vs baseline" in md and "-0.0 pts" not in md, md
    cand = {"value": 0.00012, "lo": 0.0001199, "hi": 0.0001201, "n": 50}
    zero = _result("relative", None, details=(cand, {"value": 0.0}))
    text = format_observed(zero)
    assert text.startswith("from $0 (not a %): p95 $0.0001200 [95% CI $0.0001199, $0.0001201]"), text


def test_a_failed_drop_gate_states_its_interval_as_a_range_with_no_negative_zero(tmp_path):
    """'95% CI of drop 55.8-68.3 points' read as a subtraction, and a bound of exactly 0 printed '-0.0'."""
    import re

    from evalkit.gate import evaluate_gates, parse_gates
    from evalkit.testing import write_synthetic_run
    from evalkit.testing._synthetic import SEGMENTS

    base = write_synthetic_run(tmp_path / "base", run_id="base", configs={"prod": {}}, n_cases=1200)
    cand = write_synthetic_run(tmp_path / "cand", run_id="cand", n_cases=1200,
                               configs={"prod": {"shift": {SEGMENTS[1]: -0.3}, "noise_seed": 4}})
    (result,) = evaluate_gates(cand, parse_gates([{"kind": "max_good_rate_drop", "max_drop": 0.02}]),
                               baseline_dir=base).results
    assert result.status == "fail", result.message
    found = re.search(r"95% CI of drop \[(-?[0-9.]+), (-?[0-9.]+)\] points\), (?:Holm-adjusted )?p=(\S+) below",
                      result.message)
    assert found, result.message
    lo, hi = float(found.group(1)), float(found.group(2))
    assert 0 < lo < hi and "-0.0" not in result.message


def test_a_passing_verdict_is_said_also_when_quiet(tmp_path, capsys):
    """--quiet promises that no verdict is hidden: a failing and a nothing-checked one were said, a passing
    one was silent (exit 0 and not a word, on stdout or stderr)."""
    from evalkit.gate import announce

    passing = GateReport(run_id="r", run_dir=tmp_path, baseline_run_id=None, results=(
        GateResult(name="min good rate", kind="min_good_rate", config="prod", status="pass",
                   observed=Estimate(value=0.9, lo=0.88, hi=0.92, n=1000), limit=0.8, message="ok", unit="rate"),))
    announce(passing, verbose=False, summary=False)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.strip() == "gates: passed (1 passed, 0 failed)", captured
