"""CI outputs of a gate evaluation.

Files in the run folder: gates.json, junit.xml, summary.md (also appended to
``$GITHUB_STEP_SUMMARY``). On the console: every failed gate on stderr, whatever the
verbosity (``--quiet`` hides progress, never a verdict). Under GitHub Actions
(``GITHUB_ACTIONS=true``): ``::error``/``::warning`` annotations and step outputs in
``$GITHUB_OUTPUT`` (verdict, good-rate delta, cost).

One number format everywhere: rates and drops in percent / percentage points with one
decimal, costs in dollars, ECE with three decimals, each with its 95% interval and n.
"""

from __future__ import annotations

import os
import socket
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, TextIO

from evalkit._io import write_text
from evalkit._secrets import redact_text
from evalkit.formatting import interval
from evalkit.gate._github import annotations, step_outputs, workspace_path
from evalkit.gate._numbers import format_observed, format_value, unit_interval
from evalkit.gate._results import GateReport, GateResult
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
        "hostname": socket.gethostname() or "localhost",
        "time": f"{_suite_seconds(report):.3f}",
    })
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", {"name": "run_id", "value": report.run_id})
    ET.SubElement(props, "property", {"name": "baseline_run_id", "value": report.baseline_run_id or ""})
    ET.SubElement(props, "property", {"name": "simulated", "value": str(report.simulated).lower()})
    for r in report.results:
        case = ET.SubElement(suite, "testcase", {"classname": f"evalkit.gates.{r.config}", "name": r.name,
                                                 "time": f"{r.seconds:.3f}"})
        if r.status == "fail":
            seg = f" [segments: {', '.join(r.segments)}]" if r.segments else ""
            fail = ET.SubElement(case, "failure", {"message": f"{r.config}: {r.message}{seg}", "type": r.kind})
            fail.text = r.message
        elif r.status == "skip":
            ET.SubElement(case, "skipped", {"message": r.message})
        else:
            ET.SubElement(case, "system-out").text = r.message
    root = ET.Element("testsuites", {"name": "evalkit", "tests": suite.get("tests", "0"),
                                     "failures": suite.get("failures", "0"), "time": suite.get("time", "0")})
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _suite_seconds(report: GateReport) -> float:
    """The run plus the gate evaluation: what CI waited for."""
    return (report.run_seconds or 0.0) + sum(r.seconds for r in report.results)


def _md_cell(text: str) -> str:
    # Pipes and newlines would break the table; angle brackets would be HTML in a PR comment.
    return (text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
            .replace("<", "&lt;").replace(">", "&gt;"))


def report_link(report: GateReport) -> str:
    """Where a reader finds the HTML report: ``EVALKIT_REPORT_URL`` when the CI job knows
    the artifact's address, else the workflow run page on GitHub Actions (artifacts are
    listed there), else the file in the run folder."""
    url = os.environ.get("EVALKIT_REPORT_URL")
    if url:
        return f"[HTML report]({url})"
    server, repo, run_id = (os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
    if server and repo and run_id:
        return (f"[HTML report]({server}/{repo}/actions/runs/{run_id}) (artifact `evalkit-report`, "
                f"file `{report.run_id}/report.html`)")
    return f"[HTML report](report.html) (`{report.run_dir / 'report.html'}`)"


def _money(x: float | None) -> str:
    return "unknown" if x is None else f"${x:.4f}"


def summary_markdown(report: GateReport) -> str:
    """Verdict, each failure once (with its segments), then a table of every gate."""
    lines = _summary_head(report)
    lines += ["", "| result | gate | config | observed | limit | note |", "|---|---|---|---|---|---|"]
    for r in report.results:
        lines.append(f"| {_mark(r)} | {_md_cell(r.name)} | {_md_cell(_config_cell(report, r.config))} | "
                     f"{format_observed(r)} | {format_value(r, r.limit)} | {_md_cell(_note(r))} |")
    return "\n".join(lines) + "\n"


def _mark(r: GateResult) -> str:
    return "NOT SETTLED" if r.outcome == "not settled" else _MARK[r.status]


def _mixed(report: GateReport) -> bool:
    """Some configurations simulated, some not: each row then says which."""
    configs = list(dict.fromkeys(r.config for r in report.results)) or list(report.headline)
    flags = {report.is_simulated(c) for c in configs}
    return len(flags) == 2


def _config_cell(report: GateReport, config: str) -> str:
    return config + _sim_suffix(report, config)


def _note(r: GateResult) -> str:
    """A failure's explanation is written once, above the table; its row points to it."""
    return "see Failed above" if r.status == "fail" else r.message


def _simulated_banner(report: GateReport) -> list[str]:
    configs = list(dict.fromkeys([*report.headline, *(r.config for r in report.results)]))
    sims = [c for c in configs if report.is_simulated(c)]
    if not sims:
        return []
    if len(sims) == len(configs):
        return ["", "> **simulated**: every configuration's numbers come from a simulated provider, not a real model."]
    real = [c for c in configs if c not in sims]
    return ["", (f"> **simulated**: {', '.join(f'`{c}`' for c in sims)}: numbers from a simulated provider, not a "
                f"real model; {', '.join(f'`{c}`' for c in real)}: not simulated.")]


def _headline_line(report: GateReport, config: str, h: dict[str, Any]) -> str:
    """One configuration's good rate and paired delta, each with its 95% interval and n, and its spend."""
    sim = report.is_simulated(config)
    good = interval(h.get("good_rate"), label="95% CI ")
    bits = [f"good rate {good}"]
    delta = h.get("good_rate_delta")
    if delta is not None:
        est = {"value": delta, "lo": h.get("good_rate_delta_lo"), "hi": h.get("good_rate_delta_hi"), "n": None}
        ref = h.get("baseline_config")
        vs = f"vs baseline `{ref}`" if ref and ref != config else "vs baseline"
        bits.append(f"{unit_interval(est, 'change_points')} {vs} on "
                    f"{h['n_paired']} paired cases")
    spent = _money(h.get("spent_usd"))
    bits.append(f"spent {spent}" + (" (simulated)" if sim and h.get("spent_usd") is not None else ""))
    return f"- `{config}`" + (" (simulated)" if sim else "") + ": " + "; ".join(bits)


def _summary_head(report: GateReport) -> list[str]:
    """The summary's Markdown lines before the gate table: verdict, headline, failures."""
    head = report.verdict
    if not report.results:
        head += ": no gate applies to this run"
    counts = report.counts()
    lines = [f"## evalkit gates: {head}", ""]
    lines.append(f"Run `{report.run_id}`" + (f" vs baseline `{report.baseline_run_id}`" if report.baseline_run_id
                                             else " (no baseline)") + f": {report.tally()}. {report_link(report)}.")
    if not report.checked:
        lines.append("No gate was checked: every one was skipped or not settled (see why below); this is "
                     "not a pass.")
    if counts["skipped"] and not report.baseline_run_id:
        lines.append("Skipped gates compare against a baseline: pass `--baseline RUN`.")
    if counts["not settled"]:
        lines.append("Not settled: the sequential run stopped early on a failure before these gates were decided.")
    lines += _simulated_banner(report)
    for config, h in report.headline.items():
        lines.append(_headline_line(report, config, h))
    if report.sequential:
        lines += ["", sequential_line(report.sequential, simulated=report.simulated)]
    if report.failed:
        lines += ["", "### Failed"]
        for r in report.failed:
            seg = f" (segment{'s' if len(r.segments) > 1 else ''}: {', '.join(f'`{s}`' for s in r.segments)})" \
                if r.segments else ""
            lines.append(f"- **{_md_cell(r.name)}** - `{r.config}`{_sim_suffix(report, r.config)}{seg}: "
                         f"{_md_cell(r.message)}")
    return lines


def _sim_suffix(report: GateReport, config: str) -> str:
    return " (simulated)" if _mixed(report) and report.is_simulated(config) else ""


def print_summary(report: GateReport, console: Any) -> None:
    """``summary_markdown`` for a terminal: the same verdict, headline and failures, with the gate
    table wrapped to the console's width (configuration names and results are never cut)."""
    from rich import box
    from rich.markdown import Markdown
    from rich.table import Table

    console.print(Markdown("\n".join(_summary_head(report))))
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_lines=False)
    table.add_column("result", no_wrap=True)
    table.add_column("gate", ratio=3, overflow="fold")
    table.add_column("config", no_wrap=True)
    table.add_column("observed", ratio=3, overflow="fold")
    table.add_column("limit", no_wrap=True)
    table.add_column("note", ratio=4, overflow="fold")
    for r in report.results:
        table.add_row(_mark(r), r.name, _config_cell(report, r.config), format_observed(r),
                      format_value(r, r.limit), _note(r))
    if report.results:
        console.print(table)


def sequential_line(seq: dict[str, Any], *, simulated: bool = False) -> str:
    """One sentence on what a sequential run saved against the full run (``simulated``: the dollars are
    a simulated provider's, priced as the real model it stands for)."""
    saved_usd = seq.get("saved_usd")
    money = "unknown" if saved_usd is None else \
        f"${saved_usd:.4f} (estimated{', simulated' if simulated else ''})"
    why = seq.get("stop_reason", "")
    return (f"Sequential: stopped after {seq['looks']} look(s) at {seq['cases_done']} of {seq['cases_total']} cases "
            f"({why}); {seq['calls_made']} model calls instead of {seq['calls_full']} "
            f"({seq['calls_saved']} saved, {100 * seq['share_of_full']:.1f}% of a full run), dollars saved: {money}.")


def write_gate_outputs(report: GateReport, run_dir: Path | str | None = None) -> dict[str, Path]:
    """Write gates.json, junit.xml and summary.md into the run folder (atomically), then the CI
    outputs outside it (``write_ci_outputs``)."""
    run_dir = Path(run_dir) if run_dir is not None else report.run_dir
    md = summary_markdown(report)
    paths = {
        "gates.json": write_file(run_dir, report.to_dict(), Gates),
        "junit.xml": write_text(run_dir / "junit.xml", junit_xml(report)),
        "summary.md": write_text(run_dir / "summary.md", md),
    }
    write_ci_outputs(report, run_dir, markdown=md)
    return paths


def write_ci_outputs(report: GateReport, run_dir: Path | str | None = None, *,
                     markdown: str | None = None) -> dict[str, Path]:
    """The outputs a CI job reads that are not in the run folder: the summary appended to
    ``$GITHUB_STEP_SUMMARY`` and the step outputs to ``$GITHUB_OUTPUT``, when those are set
    (also with ``evalkit gate --no-write``, which leaves the run folder alone). Returns what it wrote."""
    run_dir = Path(run_dir) if run_dir is not None else report.run_dir
    written: dict[str, Path] = {}
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        md = markdown if markdown is not None else summary_markdown(report)
        with open(step_summary, "a", encoding="utf-8") as fh:
            fh.write(redact_text(md) + "\n")  # a file outside the run folder: redacted like every writer
        written["GITHUB_STEP_SUMMARY"] = Path(step_summary)
    github_output = os.environ.get("GITHUB_OUTPUT")
    if github_output:
        with open(github_output, "a", encoding="utf-8") as fh:
            fh.writelines(redact_text(f"{k}={v}") + "\n" for k, v in step_outputs(report, run_dir).items())
        written["GITHUB_OUTPUT"] = Path(github_output)
    return written


def announce(report: GateReport, *, verbose: bool, suite_path: str | None = None,
             out: TextIO | None = None, err: TextIO | None = None,
             summary: Path | None | bool = True) -> None:
    """Say the verdict on the console. Failed gates always go to stderr (also with --quiet);
    passing and skipped ones to stdout when verbose. The verdict line, always said (stdout when
    verbose, else stderr, as --quiet promises: never a verdict hidden), counts passed, failed,
    skipped and not-settled gates apart, and points at ``summary`` (default: the run folder's
    summary.md, which the caller has just written; False or None: no summary was written, none is
    named). Under GitHub Actions the annotations go to stdout, where the runner reads workflow commands."""
    out = out or sys.stdout
    err = err or sys.stderr
    for r in report.results:
        seg = f" [segments: {', '.join(r.segments)}]" if r.segments else ""
        # the console has no banner: every simulated configuration's line says so, mixed or not
        sim = " (simulated)" if report.is_simulated(r.config) else ""
        line = f"{_mark(r)} {r.config}: {r.name}: {r.message}{seg}{sim}"
        if r.status == "fail":
            print(line, file=err)
        elif verbose:
            print(line, file=out)
    if report.sequential and (verbose or not report.passed):
        print(sequential_line(report.sequential, simulated=report.simulated), file=out if verbose else err)
    where = report.run_dir / "summary.md" if summary is True else (summary or None)
    if not report.passed:
        print(f"gates: FAILED ({report.tally()})" + (f"; summary: {where}" if where else ""), file=err)
    elif not report.checked:  # a verdict, so also with --quiet: nothing was checked, which is no pass
        for r in report.results if not verbose else ():
            print(f"{_mark(r)} {r.config}: {r.name}: {r.message}{' (simulated)' if report.is_simulated(r.config) else ''}",
                  file=err)
        print(f"gates: NOTHING CHECKED ({report.tally()}): every gate was skipped or not settled, so this run "
              "passed none" + (f"; summary: {where}" if where else ""), file=err)
    else:  # a verdict: said also with --quiet (on stderr, with the failures' lines)
        print(f"gates: passed ({report.tally()})", file=out if verbose else err)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for line in annotations(report, suite_file=workspace_path(suite_path)):
            print(line, file=out)
        out.flush()
