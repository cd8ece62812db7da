"""Suites: which dataset, which configurations, and how to score, calibrate, project and gate."""

from evalkit.suite._economics import EconomicsSpec
from evalkit.suite._load import LoadedSuite, load_suite
from evalkit.suite._prompt import PromptTemplate, load_template
from evalkit.suite._schema import ConfigSpec, ContextPolicy, ExecutionSpec, PriceOverride, SampleSpec, Suite


def suite_json_schema() -> dict:
    """JSON Schema of the suite format, for editors (yaml-language-server)."""
    return Suite.model_json_schema()


__all__ = ["ConfigSpec", "ContextPolicy", "EconomicsSpec", "ExecutionSpec", "LoadedSuite", "PriceOverride",
           "PromptTemplate", "SampleSpec", "Suite", "load_suite", "load_template", "suite_json_schema"]
