"""evalkit.gate: CI gates declared in a suite, evaluated on stored run folders.

    report = evaluate_gates(run_dir, gates, baseline_dir=baseline)
    write_gate_outputs(report, run_dir)   # gates.json, junit.xml, summary.md
    sys.exit(0 if report.passed else 1)
"""

from evalkit.gate._evaluate import GateReport, GateResult, evaluate_gates
from evalkit.gate._outputs import (
    annotations,
    announce,
    format_observed,
    junit_xml,
    step_outputs,
    summary_markdown,
    write_gate_outputs,
)
from evalkit.gate._sequential import SeqVerdict, apply_sequential, overall_state, sequential_verdicts
from evalkit.gate._stats import ece_estimate, paired_segment_compare
from evalkit.stats import Estimate
from evalkit.suite import (
    GateSpec,
    GatesSection,
    MaxCalibrationError,
    MaxCostP95Increase,
    MaxGoodRateDrop,
    MaxInvalidShare,
    MinAutomationRate,
    MinGoodRate,
    load_gates_from_suite,
    parse_gates,
)

__all__ = [
    "Estimate",
    "GateReport",
    "GateResult",
    "GateSpec",
    "GatesSection",
    "MaxCalibrationError",
    "MaxCostP95Increase",
    "MaxGoodRateDrop",
    "MaxInvalidShare",
    "MinAutomationRate",
    "MinGoodRate",
    "SeqVerdict",
    "ece_estimate",
    "evaluate_gates",
    "junit_xml",
    "load_gates_from_suite",
    "overall_state",
    "paired_segment_compare",
    "evaluate_gates",
    "format_observed",
    "junit_xml",
    "load_gates_from_suite",
    "SeqVerdict",
    "ece_estimate",
    "evaluate_gates",
    "junit_xml",
    "load_gates_from_suite",
    "overall_state",
    "paired_segment_compare",
    "parse_gates",
    "sequential_verdicts",
    "step_outputs",
    "summary_markdown",
    "write_gate_outputs",
]
