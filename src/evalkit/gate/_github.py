"""What a gate evaluation tells GitHub Actions: ``$GITHUB_OUTPUT`` step outputs and ``::error`` /
``::warning`` workflow commands (docs/ci.md)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from evalkit.gate._results import GateReport


def _output_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", text)


def step_outputs(report: GateReport, run_dir: Path) -> dict[str, str]:
    """``$GITHUB_OUTPUT`` values: verdict, good-rate delta (worst configuration and each one,
    a fraction: -0.027 = 2.7 points worse), cost (USD spent by this run; 'unknown' when a
    price is unknown; ``cost_simulated``: all, some or none of it from simulated providers;
    ``cost_usd_real``: the part real models spent, which is no pretend money), failed gate count and where
    the run folder and report are."""
    def num(x: float | None, digits: int) -> str:
        return "unknown" if x is None else f"{x:.{digits}f}"

    out = {"verdict": "fail" if not report.passed else "pass" if report.checked else "none", "failed_gates": str(len(report.failed)),
           "run_id": report.run_id, "run_dir": str(run_dir), "report": str(run_dir / "report.html")}
    deltas = {c: h.get("good_rate_delta") for c, h in report.headline.items()}
    known = [d for d in deltas.values() if d is not None]
    out["good_rate_delta"] = num(min(known) if known else None, 4)
    spent = [h.get("spent_usd") for h in report.headline.values()]
    out["cost_usd"] = num(None if any(s is None for s in spent) else sum(spent), 6)  # type: ignore[arg-type]
    # simulated spend is pretend money: a job summary quoting cost_usd must be able to say so
    sims = [report.is_simulated(c) for c in report.headline] or [report.simulated]
    out["cost_simulated"] = "all" if all(sims) else "some" if any(sims) else "none"
    real = [h.get("spent_usd") for c, h in report.headline.items() if not report.is_simulated(c)]
    out["cost_usd_real"] = num(None if any(s is None for s in real) else sum(real), 6)  # type: ignore[arg-type]
    for config, d in deltas.items():
        out[f"good_rate_delta_{_output_name(config)}"] = num(d, 4)
    if report.sequential:
        out["calls_saved"] = str(report.sequential["calls_saved"])
        out["saved_usd"] = num(report.sequential.get("saved_usd"), 6)
    return out


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotations(report: GateReport, *, suite_file: str | None = None) -> list[str]:
    """GitHub Actions workflow commands: ``::error`` per failed gate, ``::warning`` per skipped one.

    ``suite_file`` (relative to the workspace) attaches them to the suite in the pull request."""
    where = f"file={_escape_property(suite_file)}," if suite_file else ""
    lines = []
    for r in report.results:
        if r.status == "pass":
            continue
        level = "error" if r.status == "fail" else "warning"
        seg = f" [segments: {', '.join(r.segments)}]" if r.segments else ""
        title = _escape_property(f"evalkit gate {r.outcome}: {r.name}")
        sim = " (simulated)" if report.is_simulated(r.config) else ""  # what the pull request shows
        lines.append(f"::{level} {where}title={title}::{_escape_data(f'{r.config}: {r.message}{seg}{sim}')}")
    return lines


def workspace_path(path: str | None) -> str | None:
    if not path:
        return None
    workspace = os.environ.get("GITHUB_WORKSPACE") or os.getcwd()
    try:
        return str(Path(path).resolve().relative_to(Path(workspace).resolve()))
    except ValueError:
        return None
