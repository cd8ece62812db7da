"""Suites: which dataset, which configurations, and how to score, calibrate, project and gate.

The suite is the configuration layer: every stage's section (``scoring.judge``, ``calibration``,
``projection``, ``gates``) is typed here, so stages import their spec from the suite and the suite
imports no stage.
"""

from evalkit.economics import EconomicsSpec
from evalkit.suite._calibration import SIGNAL_COLUMNS, CalibrationSpec
from evalkit.suite._gates import (
    GateSpec,
    GatesSection,
    MaxCalibrationError,
    MaxCostP95Increase,
    MaxGoodRateDrop,
    MaxInvalidShare,
    MinAutomationRate,
    MinGoodRate,
    check_gate_configs,
    load_gates_from_suite,
    parse_gates,
)
from evalkit.suite._judge import JudgeSpec
from evalkit.suite._load import LoadedSuite, load_suite, segment_warnings
from evalkit.suite._projection import (
    MIX_TOLERANCE,
    ContextCap,
    ProjectionSpec,
    build_spec,
    load_mix_file,
    load_sweep_file,
)
from evalkit.suite._prompt import PromptTemplate, load_template
from evalkit.suite._schema import ConfigSpec, ContextPolicy, ExecutionSpec, PriceOverride, SampleSpec, Suite
from evalkit.suite._seed import SEED_MAX


def suite_json_schema() -> dict:
    """JSON Schema of the suite format, for editors (yaml-language-server)."""
    return Suite.model_json_schema()


__all__ = ["MIX_TOLERANCE", "SEED_MAX", "SIGNAL_COLUMNS", "CalibrationSpec", "ConfigSpec", "ContextCap", "ContextPolicy",
           "EconomicsSpec", "ExecutionSpec", "GateSpec", "GatesSection", "JudgeSpec", "LoadedSuite",
           "MaxCalibrationError", "MaxCostP95Increase", "MaxGoodRateDrop", "MaxInvalidShare", "MinAutomationRate",
           "MinGoodRate", "PriceOverride", "ProjectionSpec", "PromptTemplate", "SampleSpec", "Suite", "build_spec",
           "check_gate_configs", "load_gates_from_suite", "load_mix_file", "load_suite", "load_sweep_file", "load_template",
           "parse_gates", "segment_warnings", "suite_json_schema"]
