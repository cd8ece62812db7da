"""evalkit.report: one self-contained HTML report comparing configurations of stored runs.

    build_report([run_dir], out=run_dir / "report.html", baseline=baseline_dir)
"""

from evalkit.report._assemble import describe_threshold_set
from evalkit.report._charts import chart_worker
from evalkit.report._render import build_report

__all__ = ["build_report", "chart_worker", "describe_threshold_set"]
