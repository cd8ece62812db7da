"""evalkit.score: parse model output, score it into the tidy table, confidence signals,
aggregates with intervals, paired comparisons and LLM-judge support. See docs/scoring.md.

``score_run`` is the stage on an executed run (``evalkit.pipeline`` calls it): scores.parquet,
judge.json and summary.json."""

from evalkit.score._aggregate import AGG_COLUMNS, ALL, aggregate, summary_dict
from evalkit.score._compare import (
    FLIP_COLUMNS,
    TABLE_COLUMNS,
    Comparison,
    compare,
    compare_run_pairs,
    compare_runs,
    comparison_to_dict,
    config_pairs,
)
from evalkit.score._confidence import action_logprob_confidence, consistency_confidence
from evalkit.score._grade import Judged, judge_outputs
from evalkit.score._judge import (
    JudgeAgreement,
    JudgeVerdict,
    judge_agreement,
    judge_request_messages,
    parse_judge_verdict,
)
from evalkit.score._judging import HISTORICAL, apply_verdicts, judge_calls, pooled_judge_report
from evalkit.score._parse import ParseResult, parse_decision
from evalkit.score._stage import Scored, score_run, summarize, write_judge
from evalkit.score._stats import holm, mcnemar_exact_p, paired_diff_newcombe, wilson
from evalkit.score._table import scores_table, write_scores
from evalkit.suite import JudgeSpec

__all__ = [
    "AGG_COLUMNS",
    "ALL",
    "FLIP_COLUMNS",
    "HISTORICAL",
    "TABLE_COLUMNS",
    "Comparison",
    "JudgeAgreement",
    "JudgeSpec",
    "JudgeVerdict",
    "Judged",
    "ParseResult",
    "Scored",
    "action_logprob_confidence",
    "aggregate",
    "apply_verdicts",
    "compare",
    "compare_run_pairs",
    "compare_runs",
    "comparison_to_dict",
    "config_pairs",
    "consistency_confidence",
    "holm",
    "judge_agreement",
    "judge_calls",
    "judge_outputs",
    "judge_request_messages",
    "mcnemar_exact_p",
    "paired_diff_newcombe",
    "parse_decision",
    "parse_judge_verdict",
    "pooled_judge_report",
    "score_run",
    "scores_table",
    "summarize",
    "summary_dict",
    "wilson",
    "write_judge",
    "write_scores",
]
