"""evalkit.calibrate: calibration metrics, cross-fitted recalibration, Learn-then-Test thresholds."""

from evalkit.calibrate._bins import cp_upper, mass_bins, width_bins
from evalkit.calibrate._cost import cost_optimal, escalates_all
from evalkit.calibrate._frame import ConfigCalibration, calibrate_frame
from evalkit.calibrate._ltt import LTTResult, ltt_single, make_grid
from evalkit.calibrate._metrics import (
    Metrics,
    ReliabilityBin,
    brier_decomposition,
    compute_metrics,
    ece,
    risk_coverage,
)
from evalkit.calibrate._recal import SEGMENT_MIN_N as SEGMENT_RECAL_MIN_N
from evalkit.calibrate._recal import apply_map, cross_fit, fit_map, make_folds, map_for, segment_maps
from evalkit.calibrate._run import (
    SEED_MAX,
    SUITE_SET,
    CalibrationResult,
    calibrate_run,
    check_seed,
    describe_set,
    read_threshold_set,
    threshold_set_path,
    threshold_sets,
)
from evalkit.calibrate._segments import Certification, certify
from evalkit.suite import CalibrationSpec

__all__ = [
    "SEED_MAX",
    "SEGMENT_RECAL_MIN_N",
    "SUITE_SET",
    "CalibrationResult",
    "CalibrationSpec",
    "Certification",
    "ConfigCalibration",
    "LTTResult",
    "Metrics",
    "ReliabilityBin",
    "apply_map",
    "brier_decomposition",
    "calibrate_frame",
    "calibrate_run",
    "certify",
    "check_seed",
    "compute_metrics",
    "cost_optimal",
    "cp_upper",
    "cross_fit",
    "describe_set",
    "ece",
    "escalates_all",
    "fit_map",
    "ltt_single",
    "make_folds",
    "make_grid",
    "map_for",
    "mass_bins",
    "read_threshold_set",
    "risk_coverage",
    "segment_maps",
    "threshold_set_path",
    "threshold_sets",
    "width_bins",
]
