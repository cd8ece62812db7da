"""CI outputs of a gate evaluation: gates.json, junit.xml, summary.md (+ $GITHUB_STEP_SUMMARY)."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

from evalkit._io import write_text
from evalkit.gate._evaluate import GateReport, GateResult
from evalkit.runs import Gates, write_file

_MARK = {"pass": "PASS", "fail": "FAIL", "skip": "SKIP"}


def junit_xml(report: GateReport) -> str:
    """One <testcase> per gate x configuration; a failure's message names the segment(s)."""
    suite = ET.Element("testsuite", {
        "name": f"evalkit gates {report.run_id}",
        "tests": str(len(report.results)),
        "failures": str(len(report.failed)),
        "skipped": str(sum(r.status == "skip" for r in report.results)),
        "errors": "0",
        "timestamp": report.created,
    })
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", {"name": "run_id", "value": report.run_id})
    ET.SubElement(props, "property", {"name": "baseline_run_id", "value": report.baseline_run_id or ""})
    ET.SubElement(props, "property", {"name": "simulated", "value": str(report.simulated).lower()})
    for r in report.results:
        case = ET.SubElement(suite, "testcase", {"classname": f"evalkit.gates.{r.config}", "name": r.name})
        if r.status == "fail":
            seg = f" [segments: {', '.join(r.segments)}]" if r.segments else ""
            fail = ET.SubElement(case, "failure", {"message": f"{r.config}: {r.message}{seg}", "type": r.kind})
            fail.text = r.message
        elif r.status == "skip":
            ET.SubElement(case, "skipped", {"message": r.message})
        else:
            ET.SubElement(case, "system-out").text = r.message
    root = ET.Element("testsuites", {"name": "evalkit", "tests": suite.get("tests", "0"),
                                     "failures": suite.get("failures", "0")})
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _md_cell(text: str) -> str:
    # Pipes and newlines would break the table; angle brackets would be HTML in a PR comment.
    return (text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
            .replace("<", "&lt;").replace(">", "&gt;"))


def _observed(r: GateResult) -> str:
    o = r.observed
    if o is None or o.value is None:
        return "unknown"
    if o.lo is not None and o.hi is not None:
        return f"{o.value:.4g} [{o.lo:.4g}, {o.hi:.4g}] n={o.n}"
    return f"{o.value:.4g} n={o.n}"


def summary_markdown(report: GateReport) -> str:
    head = "PASSED" if report.passed else "FAILED"
    if not report.results:
        head = "no gates declared"
    counts = {k: sum(1 for r in report.results if r.status == k) for k in ("pass", "fail", "skip")}
    tally = f"{counts['pass']} passed, {counts['fail']} failed"
    if counts["skip"]:
        tally += f", {counts['skip']} skipped (they need a baseline: --baseline RUN)"
    lines = [f"## evalkit gates: {head}", ""]
    lines.append(f"Run `{report.run_id}`" + (f" vs baseline `{report.baseline_run_id}`" if report.baseline_run_id
                                             else " (no baseline)") + f": {tally}.")
    if report.simulated:
        lines.append("")
        lines.append("> **simulated**: numbers come from a simulated provider, not a real model.")
    if report.failed:
        lines += ["", "### Failed"]
        for r in report.failed:
            seg = f" (segment{'s' if len(r.segments) > 1 else ''}: {', '.join(f'`{s}`' for s in r.segments)})" \
                if r.segments else ""
            lines.append(f"- **{_md_cell(r.name)}** - `{r.config}`{seg}: {_md_cell(r.message)}")
    lines += ["", "| result | gate | config | observed | limit | message |", "|---|---|---|---|---|---|"]
    for r in report.results:
        lines.append(f"| {_MARK[r.status]} | {_md_cell(r.name)} | {_md_cell(r.config)} | {_observed(r)} | "
                     f"{r.limit:g} | {_md_cell(r.message)} |")
    return "\n".join(lines) + "\n"


def write_gate_outputs(report: GateReport, run_dir: Path | str | None = None) -> dict[str, Path]:
    """Write gates.json, junit.xml and summary.md into the run folder (atomically).

    The Markdown is also appended to ``$GITHUB_STEP_SUMMARY`` when that is set, so the
    job page shows it without another step.
    """
    run_dir = Path(run_dir) if run_dir is not None else report.run_dir
    md = summary_markdown(report)
    paths = {
        "gates.json": write_file(run_dir, report.to_dict(), Gates),
        "junit.xml": write_text(run_dir / "junit.xml", junit_xml(report)),
        "summary.md": write_text(run_dir / "summary.md", md),
    }
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with open(step_summary, "a", encoding="utf-8") as fh:
            fh.write(md + "\n")
    return paths
