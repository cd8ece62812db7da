"""evalkit.report: one self-contained HTML report comparing configurations of stored runs.

    build_report([run_dir], out=run_dir / "report.html", baseline=baseline_dir)
"""

from evalkit.report._assemble import describe_threshold_set
from evalkit.report._render import build_report

__all__ = ["build_report", "describe_threshold_set"]
