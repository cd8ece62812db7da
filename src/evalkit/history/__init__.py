"""Every run under a reports folder, together: list, remove and prune runs; query them with
SQL (embedded DuckDB views ``runs``, ``run_configs``, ``scores``, ``results``); follow one
configuration's good rate, automation and cost per segment across runs (table + HTML page)."""

from evalkit.history._catalog import (
    PrunePlan,
    RunEntry,
    list_run_entries,
    plan_prune,
    prune_runs,
    remove_run,
)
from evalkit.history._page import (
    excluded_lines,
    fmt_cost,
    fmt_rate,
    history_html,
    run_label,
    segments_of,
    write_history_page,
)
from evalkit.history._query import VIEWS, connect, run_query
from evalkit.history._trend import ALL, History, Rate, TrendPoint, run_history, select_runs

__all__ = ["ALL", "VIEWS", "History", "PrunePlan", "Rate", "RunEntry", "TrendPoint", "connect", "excluded_lines",
           "fmt_cost",
           "fmt_rate", "history_html", "list_run_entries", "plan_prune", "prune_runs", "remove_run",
           "run_history", "run_label", "run_query", "segments_of", "select_runs", "write_history_page"]
