"""The report prints its numbers through evalkit.formatting: an interval whose bounds differ never reads
as a point, and a change that rounds to zero has no minus sign."""

from __future__ import annotations

from evalkit.report._assemble import Change
from evalkit.report._render import _environment
from evalkit.stats import Estimate, wilson


def _render(source: str, **values) -> str:
    return _environment().from_string('{%- import "_macros.j2" as m -%}' + source).render(**values)


def test_a_zero_rate_of_1500_cases_shows_its_upper_bound():
    """'All threshold numbers' showed the coverage 0 of 1500 as '0% [0%–0%] n=1500' (Wilson: 0%-0.26%)."""
    est = wilson(0, 1500)
    cell = _render("{{ m.rate_cell(est, 0) }}", est=est)
    assert "0.0% <span class=\"ci\">[0.0%–0.3%] n=1500" in cell
    assert "[0%–0%]" not in cell
    assert "[0.0%–0.3%]" in _render("{{ m.rate_text(est, 0) }}", est=est)
    wide = _render("{{ m.rate_cell(est, 0) }}", est=wilson(700, 1000))
    assert "70% <span class=\"ci\">[67%–73%]" in wide  # a wide interval keeps the digits asked for


def test_a_p95_cost_interval_is_not_collapsed():
    est = Estimate(value=0.000021, lo=0.0000201, hi=0.0000224, n=100)
    cell = _render("{% set t = est|ci(5, usd=true) %}{{ t[0] }} [{{ t[1] }}–{{ t[2] }}]", est=est)
    assert cell == "$0.000021 [$0.000020–$0.000022]"


def test_a_change_that_rounds_to_zero_has_no_minus_sign():
    ch = Change(diff=-0.0004, lo=-0.0004, hi=0.0003, n=30, p_adjusted=1.0, significant=False)
    assert ch.text.startswith("-0.04 pts [-0.04, +0.03], n.s.")  # not '-0.0 pts [-0.0, +0.0]'
    ch = Change(diff=-0.0002, lo=-0.019, hi=0.019, n=170, p_adjusted=1.0, significant=False)
    assert ch.text.startswith("0.0 pts [-1.9, +1.9], n.s.")


def test_an_interval_excluding_zero_next_to_ns_says_it_is_unadjusted():
    """'-8.1 pts [-14.2, -2.1], n.s. (adj. p=0.05)': the interval is the segment's own, the p-value is
    Holm-adjusted, and 0.0504 printed as 'p=0.05' looked significant at α=0.05."""
    ch = Change(diff=-0.081, lo=-0.142, hi=-0.021, n=173, p_adjusted=0.0504, significant=False)
    assert ch.text == ("-8.1 pts [-14.2, -2.1] (unadjusted 95% interval), n.s. after Holm's adjustment "
                       "(adj. p=0.0504, paired, n=173)")
    ok = Change(diff=-0.127, lo=-0.16, hi=-0.094, n=331, p_adjusted=0.00012, significant=True)
    assert ok.text == "significant drop -12.7 pts [-16.0, -9.4] (adj. p=0.00012, paired, n=331)"
    ns = Change(diff=0.012, lo=-0.053, hi=0.089, n=166, p_adjusted=1.0, significant=False)
    assert ns.text == "+1.2 pts [-5.3, +8.9], n.s. (adj. p=1, paired, n=166)"
    overall = Change(diff=-0.02, lo=-0.04, hi=-0.001, n=1500, p_adjusted=0.0496, significant=True, adjusted=False)
    assert overall.text == "significant drop -2.0 pts [-4.0, -0.1] (p=0.0496, paired, n=1500)"


def test_context_and_cost_delta_good_is_the_matrix_change_against_the_same_reference(tmp_path):
    """Δ good was '-26.9 (n=1500 vs 1500)', without an interval, against the configuration with the most input
    tokens while the segment matrix compared against the suite's baseline_config."""
    import re
    from html import unescape

    from evalkit.report import build_report
    from evalkit.testing._synthetic import write_synthetic_run

    run = write_synthetic_run(tmp_path / "run", run_id="20261121-120000-ci-ctx000", n_cases=600,
                              configs={"a": {}, "b": {"shift": {"legacy_discount": -0.3}, "noise_seed": 3},
                                       "c": {"noise_seed": 4, "cost_scale": 2.0}},
                              suite_spec={"name": "ci", "baseline_config": "b"})
    html = build_report([run], out=tmp_path / "r.html").read_text()

    def text(fragment: str) -> str:
        return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()

    matrix = re.search(r'<table class="sortable" id="segment-matrix">.*?</table>', html, re.DOTALL).group(0)
    overall = text(re.search(r'<tr><th scope="row" data-sort="ALL">.*?</tr>', matrix, re.DOTALL).group(0))
    changes = re.findall(r"([+-]?\d+\.\d+) pts \[([^\]]+)\]", overall)
    assert len(changes) == 2  # a vs b, c vs b
    rows = {m.group(1): text(m.group(0)) for m in re.finditer(
        r'<tr><td data-sort="([^"]+)">.*?</tr>', re.search(r'id="context-table">.*?</table>', html,
                                                           re.DOTALL).group(0), re.DOTALL)}
    for (d, ci), name in zip(changes, ["a", "c"]):
        assert f"{d} [{ci}] vs b (paired, n=600)" in rows[name], rows[name]
    assert "(a reference)" in rows["b"]
