"""evalkit.gate: CI gates declared in a suite, evaluated on stored run folders.

    report = evaluate_gates(run_dir, parse_gates(suite_data), baseline_dir=baseline)
    write_gate_outputs(report, run_dir)   # gates.json, junit.xml, summary.md (+ the GitHub files)
    sys.exit(0 if report.passed else 1)

The gate declarations (``GateSpec``, ``MinGoodRate``, ...) are part of the suite schema: import them
from ``evalkit.suite``. ``parse_gates`` and ``GatesSection`` are re-exported here for callers that
only gate.
"""

from evalkit.gate._evaluate import check_baseline_pairs, evaluate_gates
from evalkit.gate._github import annotations, step_outputs
from evalkit.gate._numbers import format_observed
from evalkit.gate._outputs import (
    announce,
    junit_xml,
    print_summary,
    summary_markdown,
    write_ci_outputs,
    write_gate_outputs,
)
from evalkit.gate._results import GateReport, GateResult, stored_report
from evalkit.gate._sequential import SeqVerdict, apply_sequential, overall_state, sequential_verdicts
from evalkit.gate._stats import ece_estimate, paired_segment_compare
from evalkit.suite import GatesSection, parse_gates

__all__ = [
    "GateReport",
    "GateResult",
    "GatesSection",
    "SeqVerdict",
    "annotations",
    "announce",
    "apply_sequential",
    "check_baseline_pairs",
    "ece_estimate",
    "evaluate_gates",
    "format_observed",
    "junit_xml",
    "overall_state",
    "paired_segment_compare",
    "parse_gates",
    "print_summary",
    "sequential_verdicts",
    "step_outputs",
    "stored_report",
    "summary_markdown",
    "write_ci_outputs",
    "write_gate_outputs",
]
