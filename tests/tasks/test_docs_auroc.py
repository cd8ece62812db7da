"""docs/domain.md's table of stated-confidence AUROC by segment is measured, not typed: this test
recomputes it as the doc describes it (first 1,500 cases of upgrades@v2, upgrade-v1.j2, seed 7,
profiles small and large; AUROC of stated confidence for *good* among non-escalated answers) and
compares every quoted number and n. A change to the simulated world that moves them fails here,
with the rows to paste."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from sklearn.metrics import roc_auc_score

from evalkit.dataset import load_dataset
from evalkit.score import parse_decision
from evalkit.suite import load_template
from evalkit.tasks.upgrades import task

REPO = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\| (\w+) \| ([^|]+) \| ([^|]+) \|", re.MULTILINE)


def measured() -> dict[str, dict[str, str]]:
    cases = list(load_dataset("upgrades@v2", task=task, store=REPO / "datasets").cases[:1500])
    template = load_template(REPO / "suites" / "prompts" / "upgrade-v1.j2")
    texts = ["\n\n".join(m["content"] for m in template.render(task.prompt_context(c).variables)) for c in cases]
    cells: dict[str, dict[str, str]] = defaultdict(dict)
    for profile in ("small", "large"):
        pairs = defaultdict(list)
        for case, text in zip(cases, texts, strict=True):
            decision = parse_decision(task.simulate(text, profile=profile, seed=7).text, task.decision_model).decision
            if decision is not None and decision.action != "escalate":
                pairs[case.segment].append((decision.confidence, task.score(case, decision).good))
        for segment, rows in pairs.items():
            labels = [good for _, good in rows]
            cells[segment][profile] = (f"{roc_auc_score(labels, [p for p, _ in rows]):.2f} ({len(rows)})"
                                       if 0 < sum(labels) < len(labels) else "n/a")
    return cells


def test_the_auroc_table_in_domain_md_is_what_the_simulation_measures():
    doc = (REPO / "docs" / "domain.md").read_text(encoding="utf-8")
    table = doc[doc.index("| segment | small | large |"):]
    table = table[:table.index("\n\n")]
    quoted = {m.group(1): {"small": m.group(2).strip(), "large": m.group(3).strip()} for m in ROW.finditer(table)
              if m.group(1) != "segment"}
    got = measured()
    assert set(quoted) == set(got), (sorted(quoted), sorted(got))
    expected = "\n".join(f"| {s} | {got[s]['small']} | {got[s]['large']} |" for s in quoted)
    for segment, cells in quoted.items():
        for profile in ("small", "large"):
            said, measured_cell = cells[profile], got[segment][profile]
            assert said == measured_cell or (measured_cell == "n/a" and said.startswith("n/a")), \
                f"docs/domain.md quotes {segment}/{profile} = {said!r}, the simulation gives {measured_cell!r}:\n{expected}"
