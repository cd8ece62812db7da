"""The simulated reader's fast screen never hides a deciding fact: on every turn of generated cases,
and on each deciding phrase in mixed case, a kind whose pattern matches is a candidate kind."""

from __future__ import annotations

from evalkit.tasks.upgrades._generator import generate_cases
from evalkit.tasks.upgrades._read_history import PATTERNS, candidate_kinds


def _matching(text: str) -> set[str]:
    return {kind for kind, patterns in PATTERNS.items() if any(p.search(text) for p in patterns)}


def test_screen_agrees_with_the_patterns_on_generated_histories():
    bodies = [t.text for case in generate_cases(400, 11) for t in case.history]
    assert len(bodies) > 1000
    stating = 0
    for body in bodies:
        full = _matching(body)
        assert full <= candidate_kinds(body), body
        stating += bool(full)
    assert 0 < stating < len(bodies)  # both branches exercised


def test_screen_lets_every_deciding_phrase_through_in_any_case():
    phrases = ["price lock until 2025-01-01", "Locked In at $12", "the rate lock has ended", "DISPUTED invoice",
               "you charged us twice", "Chargeback filed", "needs Sign-Off", "signoff from finance",
               "special pricing", "GRANDFATHERED", "founding customer", "migration discount", "nonprofit rate",
               "never charged proration", "finance knows about it", "Off-Book deal", "not in the system",
               "ﬁnance knows (ligature)", "\u212aelvin lock"]  # non-ASCII: the full pattern decides
    for phrase in phrases:
        for text in (phrase, phrase.upper(), phrase.swapcase(), f"Hello. {phrase}. Thanks"):
            assert _matching(text) <= candidate_kinds(text), text
