from __future__ import annotations

import math

import pytest

from evalkit.providers._base import TokenLogprob
from evalkit.score import action_logprob_confidence, consistency_confidence

TOKENS = [("{\"", -0.01), ("reason", -0.2), ("\":", -0.0), (" \"", -0.1), ("deny", -3.0), ("\",", -0.0),
          (" \"", -0.0), ("action", -0.05), ("\":", -0.0), (" \"", -0.02), ("appro", -0.3), ("ve", -0.05),
          ("\",", -0.01), (" \"seats\": 2}", -0.4)]


def _toks(pairs, as_dict=False):
    return [{"token": t, "logprob": lp} if as_dict else TokenLogprob(token=t, logprob=lp) for t, lp in pairs]


@pytest.mark.parametrize("as_dict", [False, True])
def test_logprob_of_action_value_tokens_only(as_dict):
    got = action_logprob_confidence(_toks(TOKENS, as_dict), "approve")
    # only "appro" + "ve": the earlier "deny" under another key must not count
    assert got == pytest.approx(math.exp(-0.3 - 0.05))


def test_token_that_carries_quote_and_value_counts():
    toks = _toks([('{"action": "', -0.1), ('approve"', -0.7), ("}", -0.0)])
    assert action_logprob_confidence(toks, "approve") == pytest.approx(math.exp(-0.7))


def test_missing_signal_is_none():
    assert action_logprob_confidence(None, "approve") is None
    assert action_logprob_confidence([], "approve") is None
    assert action_logprob_confidence(_toks(TOKENS), None) is None
    assert action_logprob_confidence(_toks(TOKENS), "escalate") is None  # not in the output
    # the value occurs, but not as the action key's value
    assert action_logprob_confidence(_toks([('{"note": "approve"}', -0.1)]), "approve") is None


def test_consistency():
    assert consistency_confidence(["approve", "approve", "deny", None], "approve") == 0.5
    assert consistency_confidence(["deny"] * 5, "deny") == 1.0
    assert consistency_confidence(["approve"], "approve") is None  # k < 2: no signal
    assert consistency_confidence(["approve", "deny"], None) is None
