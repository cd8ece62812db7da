"""Nothing outside tasks/ names a concept of the upgrades domain: the stage packages read a
task only through the Task protocol (so a team's own domain runs with no core change)."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "evalkit"
STAGES = ("run", "score", "calibrate", "project", "report", "gate")
# Segment names, clause ids, plans, seat counts, the domain's own field names.
UPGRADES = re.compile(
    r"\b(routine|promotion|legacy_pricing|legacy|custom_contract|undocumented_exception|operational_context|"
    r"adversarial|long_context|seats?|upgrades?|pricing_cohort|recurring_price|"
    r"(UPG|PRX|OPS)-\d+)\b|[\"'](starter|team|business|enterprise)[\"']", re.IGNORECASE)


def _hits(root: Path) -> list[str]:
    out = []
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".py", ".j2", ".js", ".css") or not path.is_file():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if m := UPGRADES.search(line):
                out.append(f"{path.relative_to(root)}:{number}: {m.group(0)!r} in {line.strip()[:90]}")
    return out


def test_stage_packages_name_no_upgrades_concept():
    hits = [f"{stage}/{h}" for stage in STAGES for h in _hits(SRC / stage)]
    assert hits == [], "domain names belong in tasks/upgrades:\n" + "\n".join(hits)


def test_the_check_would_catch_one(tmp_path):
    (tmp_path / "x.py").write_text('segment = "legacy_pricing"\nplan = "team"\n')
    assert len(_hits(tmp_path)) == 2
