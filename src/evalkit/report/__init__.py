"""evalkit.report: one self-contained HTML report comparing configurations of stored runs.

    build_report([run_dir], out=run_dir / "report.html", baseline=baseline_dir)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evalkit._lazy import lazy_exports

if TYPE_CHECKING:
    from evalkit.report._assemble import describe_threshold_set
    from evalkit.report._charts import chart_worker
    from evalkit.report._render import build_report

__all__ = ["build_report", "chart_worker", "describe_threshold_set"]

# Lazy (PEP 562): `evalkit run` starts the chart process at its start without loading the report's
# stacks (pandas, jinja2, the stage readers) before its sender processes are forked.
_WHERE = {
    "build_report": "_render",
    "chart_worker": "_charts",
    "describe_threshold_set": "_assemble",
}

__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
