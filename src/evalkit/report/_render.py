"""Render the report: load runs, assemble sections, fill the Jinja2 template, write atomically.

Autoescaping is on for everything; only our own generated SVG, CSS and JS are marked
safe. A Content-Security-Policy meta tag allows no network at all and only the one
inline script whose hash we computed, so even an escaping mistake could not run a
payload from model output or fetch anything.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from evalkit._io import write_text
from evalkit.formatting import money, money_parts, number, pct, pct_parts, signed
from evalkit.runs import Manifest, load_run
from evalkit.stats import ALL


def _pct(x: Any, digits: int = 1) -> str:
    return pct(x, digits, unknown="unknown")


def _ci(est: Any, digits: int = 1, usd: bool = False) -> tuple[str, str, str]:
    """An estimate's value and bounds (an ``Estimate``, a look-alike or its JSON), formatted at one precision:
    bounds that differ never print alike (evalkit.formatting.pct_parts / money_parts)."""
    if isinstance(est, dict):
        value, lo, hi = est.get("value"), est.get("lo"), est.get("hi")
    else:
        value, lo, hi = (getattr(est, k, None) for k in ("value", "lo", "hi"))
    if usd:
        return money_parts(value, lo, hi, digits)
    return pct_parts(value, lo, hi, digits, unknown="unknown")


def _usd(x: Any, digits: int = 4) -> str:
    return money(x, digits)


def _num(x: Any, digits: int = 2) -> str:
    v = number(x)
    return "unknown" if v is None else f"{v:,.{digits}f}"


def _sortval(x: Any) -> str:
    v = number(x)
    return "" if v is None else repr(v)


def _compact(x: Any) -> str:
    if isinstance(x, (dict, list)):
        return json.dumps(x, sort_keys=True, default=str, separators=(", ", ": "))
    return "" if x is None else str(x)


def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(loader=PackageLoader("evalkit.report", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      bytecode_cache=_compiled_templates())
    from evalkit.report._assemble import naive_monthly_text, tail_ratio_text
    from evalkit.report._context import describe_policy

    env.filters.update(naive_monthly=naive_monthly_text, tail_ratio=tail_ratio_text, pct=_pct, pct0=_pct, ci=_ci, signed=signed, usd=_usd, num=_num, sortval=_sortval, compact=_compact,
                       policy=describe_policy)
    return env


def _compiled_templates() -> Any:
    """The report templates compiled once per evalkit home (compiling them is ~0.1 s of every
    report). jinja keys each entry by template and source checksum, so an edited template is
    compiled again; an unwritable home just compiles every time."""
    import os

    from jinja2 import FileSystemBytecodeCache

    from evalkit._home import evalkit_home

    folder = evalkit_home() / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return FileSystemBytecodeCache(str(folder)) if os.access(folder, os.W_OK) else None


def _asset(name: str) -> str:
    return resources.files("evalkit.report").joinpath(name).read_text(encoding="utf-8")


def _csp(js: str) -> str:
    digest = base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode()
    return ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
            f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'")


def _describe_dataset(m: Manifest | None) -> str | None:
    ds = m.dataset if m is not None else None
    if ds is None or not (ds.ref or ds.name or ds.sha256):
        return None
    name = ds.ref or f"{ds.name or '?'}@{ds.version or '?'}"
    sha = str(ds.sha256 or "unknown").removeprefix("sha256:")
    return f"{name} (version {ds.version or '?'}, sha256 {sha[:16]}…)"


def _describe_suite(m: Manifest | None) -> str | None:
    s = m.suite if m is not None else None
    if s is None or not (s.path or s.name or s.sha256):
        return None
    sha = str(s.sha256 or "unknown").removeprefix("sha256:")
    return f"{s.path or s.name or '?'} (sha256 {sha[:16]}…)"


def _default_title(runs: Sequence[Any], base: Any = None) -> str:
    suites = {r.manifest.suite.name for r in runs if r.manifest is not None}
    suites.discard(None)
    what = f"suite {', '.join(sorted(suites))}" if suites else "evaluation"
    runs_text = f"run {runs[0].run_id}" if len(runs) == 1 else f"{len(runs)} runs"
    return f"evalkit report — {what}, {runs_text}" + (f" against {base.run_id}" if base is not None else "")


def _threshold_set_lines(cols: Sequence[Any]) -> list[tuple[str, str]]:
    """Header lines naming the threshold set shown and the one each projection applied."""
    from evalkit.calibrate import describe_set, threshold_sets

    out: list[tuple[str, str]] = []
    seen: set[Any] = set()
    for c in cols:
        if c.run.path in seen:
            continue
        seen.add(c.run.path)
        who = f" ({c.run.run_id})" if len({x.run.path for x in cols}) > 1 else ""
        others = [n for n in threshold_sets(c.run.path) if n != c.threshold_set]
        out.append((f"threshold set{who}", describe_set(c.threshold_set, c.thresholds)
                    + (f"; other sets: {', '.join(others)}" if others else "")))
        proj = c.run.projection
        used = (proj.threshold_set or {}) if proj is not None else {}
        if proj is not None:
            what_if = (f"; WHAT-IF, not the suite's projection (saved with evalkit project --save): "
                       f"{'; '.join(proj.what_if)}" if proj.what_if else "")
            out.append((f"projection{who}", "applies threshold set " + str(used.get("description") or
                                                                          "suite (thresholds.json; not recorded)")
                        + what_if))
    return out


def _run_status(run: Any, completes_run: bool) -> str:
    """The status the header shows: the manifest's, except that a report written as its run's last
    stage shows the ``complete`` that ``evalkit.run.mark_complete`` writes as soon as the report exists."""
    status = (run.manifest.status if run.manifest is not None else None) or "status unknown"
    return "complete" if completes_run and status == "evaluating" else status


def _judge_simulated(run: Any) -> dict[str, Any]:
    """Which of the judge's agreements rest on simulated numbers: against the human labels, when the judge's
    provider is simulated (judge.json ``judge_simulated``); against the rubric, also when some graded
    configuration is simulated (``RunFolder.simulated``, the question's one owner: the judge grades every
    configuration's decisions, pooled)."""
    judge = bool(run.judge.judge_simulated)
    configs = run.simulated_configs()
    return {"judge": judge, "configs": configs, "judge_vs_human": judge, "judge_vs_rubric": judge or bool(configs)}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("evalkit")
    except PackageNotFoundError:
        return "unknown"


def build_report(run_dirs: Sequence[Path | str], *, out: Path | str, baseline: Path | str | None = None,
                 title: str | None = None, max_prompts: int = 50, threshold_set: str | None = None,
                 completes_run: bool = False) -> Path:
    """Write one self-contained HTML report.

    One run: its configurations, each against the suite's ``baseline_config`` (else the
    first configuration). Two or more runs without ``baseline``: the first run is the
    baseline and the others are shown against it (``evalkit report A B`` = B against A).
    With ``baseline``: every configuration of ``run_dirs`` against the baseline configuration
    ``evalkit compare`` pairs it with (``evalkit.score.config_pairs``). ``max_prompts``: drill-downs that also embed the
    full rendered prompt (every flipped or failed case gets a drill-down regardless).
    ``threshold_set``: the thresholds shown (default: the set each run's projection applied,
    else the suite's ``thresholds.json``); the header names it.
    ``completes_run``: this report is the last file of its run's evaluation (``evalkit run``): the
    run is marked complete right after it is written, so the header shows the status the run ends
    with, not the ``evaluating`` it has while its last file is being written.
    """
    import gc

    from evalkit.errors import ConfigError

    if not run_dirs:
        raise ConfigError("build_report needs at least one run folder")
    if baseline is None and len(run_dirs) >= 2:
        baseline, run_dirs = run_dirs[0], list(run_dirs[1:])
    # statsmodels' multipletests (used by evalkit.score's Holm step) calls gc.collect()
    # on every call; with matplotlib/pandas loaded that is ~0.2 s each. Freezing the
    # objects that exist now keeps those collections small; undone in ``finally``.
    gc.freeze()
    try:
        return _build(run_dirs, out=out, baseline=baseline, title=title, max_prompts=max_prompts,
                      threshold_set=threshold_set, completes_run=completes_run)
    finally:
        gc.unfreeze()


TOC = (("verdict", "Verdict"), ("leaderboard", "Leaderboard"), ("segments", "Good rate by segment"),
       ("thresholds", "Threshold decision"), ("calibration", "Calibration charts"),
       ("projection", "Production projection"), ("context-cost", "Context and cost"),
       ("cases", "Cases and drill-downs"),
       ("prompt-changes", "Prompt template changes"), ("configurations", "Configurations"), ("judge", "LLM judge"))


def _build(run_dirs: Sequence[Path | str], *, out: Path | str, baseline: Path | str | None, title: str | None,
           max_prompts: int, threshold_set: str | None = None, completes_run: bool = False) -> Path:
    from markupsafe import Markup

    from evalkit.report import _assemble, _casedata, _context, _decision, _sections, _verdict
    from evalkit.report._prompts import template_diff

    runs = [load_run(p) for p in run_dirs]
    base = load_run(baseline) if baseline is not None else None
    cols = _assemble.build_columns(runs, base, threshold_set=threshold_set)
    rows = _assemble.leaderboard(cols)
    matrix = _assemble.segment_matrix(cols)
    all_runs = ([base] if base else []) + runs
    verdict = _verdict.verdict(runs, rows, matrix, baseline=base)
    finish_cases = _casedata.start_pack(cols, max_prompts=max_prompts)  # its prompts render meanwhile
    improved: dict[str, int] = {}
    for c, _, _, kind in _casedata.listed_cases(cols):
        if kind == "improved":
            improved[c.key] = improved.get(c.key, 0) + 1
    refs = sorted({c.ref.label for c in cols if c.ref is not None})
    js, css = _asset("report.js"), _asset("report.css")
    compared = [c for c in cols if not c.is_baseline]
    judges = [(r.run_id, r.judge.dump(), _judge_simulated(r)) for r in runs if r.judge is not None]
    context_cost = _context.context_section(cols, matrix=matrix)
    calibration, projection, decisions = _sections.calibration(cols), _sections.projection(cols), \
        _decision.decisions(cols)
    cases = finish_cases()
    context = {
        "title": title or _default_title(runs, base),
        "version": _version(),
        "csp": _csp(js), "css": Markup(css), "js": Markup(js),
        "all_segments": ALL, "runs": runs, "baseline": base, "run_status": [_run_status(r, completes_run) for r in runs],
        "suites": list(dict.fromkeys(s for s in (_describe_suite(r.manifest) for r in all_runs) if s)),
        "datasets": list(dict.fromkeys(d for d in (_describe_dataset(r.manifest) for r in all_runs) if d)),
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "columns": cols, "any_simulated": any(c.simulated for c in cols),
        "matrix_columns": compared if base is not None and any(c.is_baseline for c in cols) else cols,
        "unmatched": [c for c in compared if base is not None and c.ref is None],
        "verdict": verdict, "leaderboard": rows, "matrix": matrix,
        "has_reference": any(c.ref is not None for c in cols),
        "reference_text": ("the matching configuration of baseline run " + base.run_id) if base
        else ("within the run: " + ", ".join(refs)),
        "calibration": calibration, "projection": projection,
        "judges": judges, "cases": cases, "improved": improved, "decisions": decisions,
        "template_diffs": {c.key: template_diff(c) for c in cols if c.ref is not None},
        "threshold_sets": _threshold_set_lines(cols),
        "toc": [t for t in TOC if (t[0] != "judge" or judges) and (t[0] != "context-cost" or context_cost)],
        "context_cost": context_cost,
        "failing": [(r.run_id, [g.model_dump() for g in r.manifest.errors]) for r in runs
                    if r.manifest is not None and r.manifest.errors],
        "unsure": [(r.run_id, r.manifest.counts.model_dump()) for r in runs if r.manifest is not None
                   and r.manifest.counts is not None and r.manifest.counts.possibly_billed_attempts],
        "truncated": [(r.run_id, r.summary.truncated) for r in runs if r.summary is not None and r.summary.truncated],
    }
    for key in ("calibration", "projection", "context_cost"):
        sec = context[key]
        for attr in ("reliability_svg", "risk_coverage_svg", "cost_svg", "spend_svg", "frontier_svg"):
            if getattr(sec, attr, None):
                setattr(sec, attr, Markup(getattr(sec, attr)))  # our own matplotlib output, not user text
    html = _environment().get_template("report.html.j2").render(**context)
    return write_text(Path(out), html)
