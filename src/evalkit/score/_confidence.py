"""Confidence signals computed from a model's output (besides the stated confidence).

* logprob: the probability the model gave to the tokens spelling its chosen action
  value (``"action": "approve"`` -> the tokens of ``approve``). Needs token logprobs.
* consistency: the share of k independent samples that agree with the chosen answer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any


def _token_fields(tok: Any) -> tuple[str, float]:
    # Accept TokenLogprob models and plain dicts (as stored in results.parquet).
    if isinstance(tok, dict):
        return str(tok["token"]), float(tok["logprob"])
    return str(tok.token), float(tok.logprob)


def action_logprob_confidence(token_logprobs: Sequence[Any] | None, action: str | None, *,
                              key: str = "action") -> float | None:
    """exp(sum of logprobs) of the tokens spelling the value of ``"<key>": "<action>"``.

    Tokens that overlap the value's characters are included (a token like ``"appro``
    that also carries the opening quote counts: its probability is the model's
    commitment to the value). Returns None when there are no logprobs, the action is
    unknown, or the key/value pair does not occur in the tokenised text.
    """
    if not token_logprobs or not action:
        return None
    try:
        pieces = [_token_fields(t) for t in token_logprobs]
    except (KeyError, AttributeError, TypeError, ValueError):
        return None
    text = "".join(p[0] for p in pieces)
    pattern = re.compile(r'"' + re.escape(key) + r'"\s*:\s*"(' + re.escape(action) + r')"')
    match = pattern.search(text)
    if match is None:
        return None
    start, end = match.span(1)
    total = 0.0
    pos = 0
    for token, logprob in pieces:
        t_start, t_end = pos, pos + len(token)
        pos = t_end
        if t_end <= start:
            continue
        if t_start >= end:
            break
        if not math.isfinite(logprob):
            return 0.0 if logprob < 0 else None
        total += logprob
    return float(min(1.0, math.exp(total)))


def consistency_confidence(actions: Sequence[str | None], chosen: str | None) -> float | None:
    """Share of the k samples (main answer included) whose action equals ``chosen``.

    Invalid samples (None) count as disagreeing. None when k < 2 (no signal) or when
    there is no chosen answer.
    """
    if chosen is None or len(actions) < 2:
        return None
    return sum(1 for a in actions if a == chosen) / len(actions)
