"""The report's projection figures as `evalkit project` states them: the naive monthly spend and tail ÷ naive
(not applicable for a cost known to be $0, unknown with the known-rows figure when some costs are unknown),
and a saved what-if projection labelled as one wherever its figures are shown."""

from __future__ import annotations

import json
import re
from html import unescape

from evalkit.report import build_report
from evalkit.testing._synthetic import write_synthetic_run


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", fragment)))


def _row(html: str, table_id: str, config: str) -> str:
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.DOTALL).group(0)
    rows = [_text(r) for r in re.findall(r"<tr>.*?</tr>", table, re.DOTALL)]
    return next(r for r in rows if r.strip().startswith(config))


def _run(tmp_path, edit) -> str:
    run = write_synthetic_run(tmp_path / "run", run_id="20261121-120000-ci-proj00",
                              configs={"rules": {}, "llm": {}}, n_cases=200)
    doc = json.loads((run / "projection.json").read_text())
    edit(doc)
    (run / "projection.json").write_text(json.dumps(doc))
    return build_report([run], out=tmp_path / "r.html").read_text()


def _costs(doc: dict) -> None:
    doc["configs"]["rules"]["monthly_cost"] = {"known": True, "mean": 0.0, "p50": 0.0, "p95": 0.0, "naive": 0.0,
                                               "tail_to_naive_ratio": None, "p95_to_naive_ratio": None}
    doc["configs"]["llm"]["monthly_cost"] = {"known": False, "naive": None, "naive_known_rows_only": 7.2,
                                             "n_unknown": 25, "tail_to_naive_ratio": None}


def test_tail_to_naive_is_not_applicable_at_zero_cost_and_unknown_naive_says_what_is_known(tmp_path):
    html = _run(tmp_path, _costs)
    rules, llm = _row(html, "cost-table", "rules"), _row(html, "cost-table", "llm")
    assert rules.rstrip().endswith("$0 $0 $0 —"), rules
    assert "unknown ($7 over known-cost calls; 25 unknown)" in llm and llm.rstrip().endswith("unknown"), llm
    ctx_rules, ctx_llm = _row(html, "context-table", "rules"), _row(html, "context-table", "llm")
    assert "$0 $0 $0 —" in ctx_rules, ctx_rules
    assert "unknown ($7 over known-cost calls; 25 unknown) unknown unknown unknown" in ctx_llm, ctx_llm
    assert "not projected" not in ctx_llm


def _section(html: str, section_id: str) -> str:
    return re.search(rf'<section id="{section_id}">.*?</section>', html, re.DOTALL).group(0)


def test_a_saved_what_if_projection_is_labelled_wherever_its_figures_are_shown(tmp_path):
    """projection.json's what_if (evalkit project RUN --threshold 0.8 --save): the report showed its net value,
    automation, review hours and spend as if they were the suite's projection."""
    changes = ["--threshold 0.8", "volume 80,000/month (the suite's: 50,000)"]
    html = _run(tmp_path, lambda doc: doc.update(what_if=changes))
    label = "what-if: --threshold 0.8; volume 80,000/month (the suite's: 50,000)"
    spend = "what-if: volume 80,000/month (the suite's: 50,000)"  # a threshold does not change the spend
    net_value = re.search(r'<table[^>]*id="leaderboard-table".*?</table>', html, re.DOTALL).group(0)
    for config in ("rules", "llm"):
        assert _row(net_value, "leaderboard-table", config).rstrip().endswith(label)
        assert label in _row(html, "projection-table", config)
        cost, context = _row(html, "cost-table", config), _row(html, "context-table", config)
        assert spend in cost and "--threshold" not in cost, cost
        assert context.count(spend) >= 4 and "--threshold" not in context, context  # naive, p50, p95, tail ÷ naive
    projection = _text(_section(html, "projection")).replace(" :", ":")
    assert "What-if, not the suite's projection: run 20261121-120000-ci-proj00's projection was saved" in projection
    assert "changes --threshold 0.8; volume 80,000/month (the suite's: 50,000)" in projection
    decisions = _text(_section(html, "thresholds"))
    assert decisions.count("are a saved what-if projection's (--threshold 0.8;") == 2
    header = _text(re.search(r"<header.*?</header>", html, re.DOTALL).group(0))
    assert "WHAT-IF, not the suite's projection (saved with evalkit project --save): --threshold 0.8" in header
    verdict = _text(_section(html, "verdict"))
    assert "/month " + label in verdict


def test_the_suites_own_projection_is_not_labelled(tmp_path):
    html = _run(tmp_path, lambda doc: doc.update(what_if=[]))
    assert "what-if" not in html.lower().replace(".whatif", "")
