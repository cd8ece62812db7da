"""evalkit.project: production-mix projection of a scored run.

Automation and review load at an escalation policy, the token-cost tail at production volume,
the naive projection beside it, context-cap what-ifs and net monthly value. See docs/projection.md.
"""

from evalkit.project._cost import weighted_cvar, weighted_quantile
from evalkit.project._policy import Policy, resolve_policy
from evalkit.project._project import project_frame
from evalkit.project._run import ProjectionResult, project_run
from evalkit.project._settings import economics_for_run, spec_for_run, what_if_settings
from evalkit.project._strata import Strata, build_strata, kish_ess, kish_ess_from_strata, post_stratified_mean
from evalkit.suite import ContextCap, ProjectionSpec, load_mix_file, load_sweep_file

__all__ = [
    "ContextCap",
    "Policy",
    "ProjectionResult",
    "ProjectionSpec",
    "Strata",
    "build_strata",
    "economics_for_run",
    "kish_ess",
    "kish_ess_from_strata",
    "load_mix_file",
    "load_sweep_file",
    "post_stratified_mean",
    "project_frame",
    "project_run",
    "resolve_policy",
    "spec_for_run",
    "weighted_cvar",
    "weighted_quantile",
    "what_if_settings",
]
