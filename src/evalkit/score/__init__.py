"""evalkit.score: parse model output, confidence signals, aggregates with intervals,
paired comparisons and LLM-judge support. See docs/scoring.md."""

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
from evalkit.score._judge import (
    JudgeAgreement,
    JudgeVerdict,
    judge_agreement,
    judge_request_messages,
    parse_judge_verdict,
)
from evalkit.score._parse import ParseResult, parse_decision
from evalkit.score._stats import holm, mcnemar_exact_p, paired_diff_newcombe, wilson
from evalkit.suite import JudgeSpec

__all__ = [
    "AGG_COLUMNS",
    "ALL",
    "FLIP_COLUMNS",
    "TABLE_COLUMNS",
    "Comparison",
    "JudgeAgreement",
    "JudgeSpec",
    "JudgeVerdict",
    "ParseResult",
    "action_logprob_confidence",
    "aggregate",
    "compare",
    "compare_run_pairs",
    "compare_runs",
    "comparison_to_dict",
    "config_pairs",
    "consistency_confidence",
    "holm",
    "judge_agreement",
    "judge_request_messages",
    "mcnemar_exact_p",
    "paired_diff_newcombe",
    "parse_decision",
    "parse_judge_verdict",
    "summary_dict",
    "wilson",
]
