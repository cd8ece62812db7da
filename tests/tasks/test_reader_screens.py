"""The simulated reader's fast screen agrees with the patterns it stands in front of: on every turn
of generated cases, and on each deciding phrase in mixed case."""

from __future__ import annotations

from evalkit.tasks.upgrades._generator import generate_cases
from evalkit.tasks.upgrades._read_history import ANY_FACT_RE, may_state_fact


def test_screen_agrees_with_the_patterns_on_generated_histories():
    bodies = [t.text for case in generate_cases(400, 11) for t in case.history]
    assert len(bodies) > 1000
    stating = 0
    for body in bodies:
        full = ANY_FACT_RE.search(body) is not None
        assert may_state_fact(body) == full, body
        stating += full
    assert 0 < stating < len(bodies)  # both branches exercised


def test_screen_lets_every_deciding_phrase_through_in_any_case():
    phrases = ["price lock until 2025-01-01", "Locked In at $12", "the rate lock has ended", "DISPUTED invoice",
               "you charged us twice", "Chargeback filed", "needs Sign-Off", "signoff from finance",
               "special pricing", "GRANDFATHERED", "founding customer", "migration discount", "nonprofit rate",
               "never charged proration", "finance knows about it", "Off-Book deal", "not in the system",
               "ﬁnance knows (ligature)", "\u212aelvin lock"]  # non-ASCII: the full pattern decides
    for phrase in phrases:
        for text in (phrase, phrase.upper(), phrase.swapcase(), f"Hello. {phrase}. Thanks"):
            if ANY_FACT_RE.search(text):
                assert may_state_fact(text), text
