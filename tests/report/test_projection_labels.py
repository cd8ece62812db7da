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
