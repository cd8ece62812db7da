"""The leaderboard's "automation at threshold": every figure with its interval and n, and the threshold it is
at in words - per segment in per_segment mode (certified or not), never "t=unknown"."""

from __future__ import annotations

import json
import re
from html import unescape

from evalkit.report import build_report
from evalkit.testing._synthetic import write_synthetic_run


def _cell(tmp_path, mode: str, certified: bool) -> str:
    run = write_synthetic_run(tmp_path / mode, run_id="20261121-120000-ci-auto00", configs={"prod": {}},
                              n_cases=300)
    doc = json.loads((run / "thresholds.json").read_text())
    entry = doc["configs"]["prod"]
    doc["mode"] = mode
    if not certified:
        entry.update(certified=False, threshold=None)
        entry["coverage"] = {"value": 0.0, "lo": 0.0, "hi": 0.0126, "n": 300, "k": 0}
    if mode == "per_segment":
        entry["segments"] = {"routine": {"certified": certified, "threshold": 0.8 if certified else None, "n": 300}}
    (run / "thresholds.json").write_text(json.dumps(doc))
    html = build_report([run], out=tmp_path / f"{mode}.html").read_text()
    table = re.search(r'<table class="sortable" id="leaderboard-table">.*?</table>', html, re.DOTALL).group(0)
    row = re.findall(r"<tr>.*?</tr>", table, re.DOTALL)[-1]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", cells[-2]))).strip()


def test_per_segment_mode_says_per_segment_with_interval_and_n(tmp_path):
    assert _cell(tmp_path, "per_segment", certified=False) == "0.0% [0.0%–1.3%] n=300 per segment"
    cell = _cell(tmp_path / "c", "per_segment", certified=True)
    assert cell.endswith("n=300 per segment") and "[" in cell


def test_no_certified_threshold_is_said_in_words(tmp_path):
    assert _cell(tmp_path, "global", certified=False) == "0.0% [0.0%–1.3%] n=300 none certified: every case escalated"
    cell = _cell(tmp_path / "c", "global", certified=True)
    assert re.fullmatch(r"\d+\.\d% \[.*\] n=300 at confidence >= 0\.80", cell), cell
