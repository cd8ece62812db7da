"""The simulated model's profiles: how often each kind of slip happens, how far its attention
reaches, how it judges and how (over)confident it is; ``price_as`` names the real model whose
price its calls are costed at (labelled simulated)."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, kw_only=True)
class SimProfile:
    name: str
    price_as: str
    """Real model whose list price (litellm bundled map) the simulation charges."""
    # Injected slips: mistakes that happen whatever the prompt says. The model does not know it made them,
    # so they never move its stated confidence (a test turns them all off and compares confidences).
    arithmetic_slip: float
    miss_discount: float
    stack_discounts: float
    injection_obey: float
    ops_follow: float
    disclosure_rate: float
    leak_rate: float
    invalid_rate: float
    text_request_misread: float
    # Reading: what is hard in the prompt.
    attention_tokens: float
    """A history fact buried under T tokens of later history is noticed with probability exp(-T / this)."""
    long_turn_penalty: float
    """A fact inside a long pasted thread is noticed this much less often."""
    revocation_read: float
    """Noticing that a later turn revoked an earlier fact (a dispute resolved, a lock ended)."""
    ops_judgement: float
    """Escalates a flagged account without being told to (no guidance in the prompt)."""
    precedent_uptake: float
    """Applies a rule it saw only in past decisions (precedents) to this case."""
    misled_by_near_miss: float
    """Drops a rule it knows because a retrieved near-miss precedent looked like this case."""
    stale_uptake: float
    """Follows a superseded memo when the current one is not beside it."""
    escalate_when_unsure: float
    """Escalates when it sees a hint of an exception it has no rule for."""
    verbosity_words: int
    overconfidence: float
    confidence_noise: float
    prompt_sensitivity: float = 0.02

    def without_slips(self) -> SimProfile:
        """The same model reading the same prompts, with every injected slip turned off."""
        return replace(self, arithmetic_slip=0.0, miss_discount=0.0, stack_discounts=0.0, injection_obey=0.0,
                       ops_follow=1.0, disclosure_rate=1.0, leak_rate=0.0, invalid_rate=0.0,
                       text_request_misread=0.0)


PROFILES = {
    "small": SimProfile(name="small", price_as="gpt-4o-mini", arithmetic_slip=0.05, miss_discount=0.08,
                        stack_discounts=0.5, injection_obey=0.4, ops_follow=0.88, disclosure_rate=0.92,
                        leak_rate=0.12, invalid_rate=0.03, text_request_misread=0.12, attention_tokens=2500,
                        long_turn_penalty=0.35, revocation_read=0.75, ops_judgement=0.12, precedent_uptake=0.45,
                        misled_by_near_miss=0.35, stale_uptake=0.5, escalate_when_unsure=0.3,
                        verbosity_words=60, overconfidence=0.16, confidence_noise=0.07),
    "large": SimProfile(name="large", price_as="gpt-4o", arithmetic_slip=0.01, miss_discount=0.02,
                        stack_discounts=0.12, injection_obey=0.06, ops_follow=0.97, disclosure_rate=0.99,
                        leak_rate=0.02, invalid_rate=0.005, text_request_misread=0.04, attention_tokens=20000,
                        long_turn_penalty=0.15, revocation_read=0.93, ops_judgement=0.5, precedent_uptake=0.75,
                        misled_by_near_miss=0.15, stale_uptake=0.2, escalate_when_unsure=0.6,
                        verbosity_words=110, overconfidence=0.07, confidence_noise=0.04),
}
