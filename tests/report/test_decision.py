"""The threshold decision on the demo report: one recommendation per segment per configuration."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


@pytest.mark.timeout(1200)  # runs the demo suite when no other test has yet (session fixture)
def test_every_demo_configuration_gets_one_recommendation_per_segment(demo_report):
    html = (demo_report / "report.html").read_text()
    thresholds = json.loads((demo_report / "thresholds.json").read_text())
    section = re.search(r'<section id="thresholds">.*?</section>', html, re.DOTALL).group(0)
    blocks = re.findall(r'<div class="decision" id="decision-c\d+">.*?</table></div>\s*</div>', section, re.DOTALL)
    assert len(blocks) == len(thresholds["configs"])
    for block in blocks:
        name = _text(re.search(r"<h3>(.*?)</h3>", block, re.DOTALL).group(1)).removesuffix(" simulated").strip()
        entry = thresholds["configs"][name]
        text = _text(block)
        assert "Guarantee: With probability at least 95%" in text and "Assumes" in text and "exchangeable" in text
        assert "reviewer hours" in text
        rows = re.findall(r'<tr class="rec-(\w+)"><th scope="row">(.*?)</th>(.*?)</tr>', block, re.DOTALL)
        assert sorted(r[1] for r in rows) == sorted(entry["segments"])  # one recommendation per segment
        for action, seg, cells in rows:
            seg_entry = entry["segments"][seg]
            if seg_entry["certified"]:  # automated, unless escalating every case costs less
                assert action == "automate" and "automate at confidence &gt;= " in cells \
                    or action == "review" and "escalating every case costs less" in cells
            else:
                assert action in ("review", "never")
                # the planner's figure, or the statement that labels alone cannot certify it
                assert "Needed:" in cells and ("more labelled cases" in cells or "more labels alone" in cells)
                plan = seg_entry.get("cases_needed")
                if plan:
                    assert f"{plan['more_cases']:,} more labelled cases" in _text(cells)
