"""Sampling parameters of a configuration or of the judge: the ones evalkit reads itself are checked."""

from __future__ import annotations

from typing import Any

OUTPUT_CAPS = ("max_tokens", "max_completion_tokens", "max_output_tokens")
"""Parameters that cap a call's output tokens, by provider spelling."""


def check_params(params: dict[str, Any]) -> dict[str, Any]:
    """The parameters evalkit reads itself (the budget guard bounds a call by its output cap) must be
    what providers accept; others pass through to the provider as given."""
    for key in OUTPUT_CAPS:
        cap = params.get(key)
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
            raise ValueError(f"{key} must be a whole number of tokens, at least 1 (got {cap!r})")
    for key, low, high in (("temperature", 0.0, 2.0), ("top_p", 0.0, 1.0)):
        x = params.get(key)
        if x is not None and (isinstance(x, bool) or not isinstance(x, (int, float)) or not low <= x <= high):
            raise ValueError(f"{key} must be a number from {low:g} to {high:g} (got {x!r})")
    return params
