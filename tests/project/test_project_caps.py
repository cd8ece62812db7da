"""Context-cap what-ifs: tokens removed, cost saved, good-rate lost (hand-checked)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalkit.economics import EconomicsSpec
from evalkit.project import ContextCap, ProjectionSpec, build_strata, project_frame
from evalkit.project._caps import History, cap_whatif
from evalkit.project._policy import Policy


def _history() -> tuple[History, np.ndarray]:
    # row 0: 20 turns / 2000 tokens, deciding fact 15 from the end, good -> cut by a 10-turn cap: lost
    # row 1: same history, deciding fact 5 from the end -> kept
    # row 2: 20 turns, fact 15 from end but currently NOT good -> nothing to lose
    # row 3: 8 turns / 400 tokens -> not truncated by 10 turns
    # row 4: 20 turns, deciding fact 30 from end (already outside the prompt) -> not lost by the cap
    # row 5: 20 turns, deciding fact unknown (null) -> not lost
    h = History(
        tokens=np.array([2000, 2000, 2000, 400, 2000, 2000], float),
        turns_included=np.array([20, 20, 20, 8, 20, 20], float),
        deciding_from_end=np.array([15, 5, 15, 3, 30, np.nan]),
        good=np.array([True, True, False, True, True, True]),
        attempts=np.array([1, 2, 1, 1, 1, 1], float),
    )
    segs = np.array(["a", "a", "a", "b", "b", "b"])
    return h, segs


def test_turn_cap_by_hand() -> None:
    h, segs = _history()
    strata = build_strata(segs, {"a": 0.5, "b": 0.5}, min_cases=1)
    price = 2e-6
    out = cap_whatif(ContextCap(turns=10), h, strata, input_price=price, mean_cost=0.01, volume=1000)
    # removed tokens: rows 0,1,2,4,5 drop 10 of 20 turns = 1000 tokens; row 1 was sent twice
    saved = np.array([1000, 2000, 1000, 0, 1000, 1000]) * price
    assert out["saved_per_case"] == pytest.approx(0.5 * saved[:3].mean() + 0.5 * saved[3:].mean())
    assert out["saved_per_month"] == pytest.approx(out["saved_per_case"] * 1000)
    assert out["saved_share"] == pytest.approx(out["saved_per_case"] / 0.01)
    assert out["segments"]["a"]["good_rate_lost"]["value"] == pytest.approx(1 / 3)
    assert out["segments"]["b"]["good_rate_lost"]["value"] == 0.0
    assert out["segments"]["b"]["truncated_rate"]["value"] == pytest.approx(2 / 3)
    assert out["good_rate_lost"]["value"] == pytest.approx(0.5 * 1 / 3)


def test_token_cap_by_hand() -> None:
    h, segs = _history()
    strata = build_strata(segs, {"a": 0.5, "b": 0.5}, min_cases=1)
    # 500 tokens of a 2000-token, 20-turn history keeps floor(20 * 500/2000) = 5 turns: fact at 15 is cut,
    # fact at 5 is kept. Row 3 (400 tokens) is untouched.
    out = cap_whatif(ContextCap(tokens=500), h, strata, input_price=None, mean_cost=None, volume=10)
    assert out["saved_per_case"] is None and out["saved_per_month"] is None  # no price -> unknown
    assert out["tokens_removed_per_case"] == pytest.approx(0.5 * 1500 + 0.5 * (2 * 1500) / 3)
    assert out["segments"]["a"]["good_rate_lost"]["value"] == pytest.approx(1 / 3)
    assert out["segments"]["b"]["truncated_rate"]["value"] == pytest.approx(2 / 3)


def test_caps_in_projection_use_manifest_price() -> None:
    h, segs = _history()
    df = pd.DataFrame({"config": "c", "segment": segs, "status": "ok", "deferred": False, "correct": True,
                       "good": h.good, "confidence": 0.9, "cost_usd": 0.01, "history_tokens": h.tokens,
                       "history_turns_included": h.turns_included, "deciding_turn_from_end": h.deciding_from_end,
                       "attempts": h.attempts})
    spec = ProjectionSpec(volume_per_month=1000, mix={"a": 0.5, "b": 0.5}, min_cases_per_segment=1,
                          context_caps=[ContextCap(turns=10), ContextCap(turns=10, tokens=500)])
    out = project_frame(df, spec=spec, economics=EconomicsSpec(), outcome="good",
                        policy_for=lambda c: Policy(source="--threshold", threshold=0.5),
                        input_price_for=lambda c: 2e-6)["c"]
    caps = out["context_caps"]
    assert [c["label"] for c in caps] == ["turns<=10", "turns<=10,tokens<=500"]
    assert caps[0]["saved_share"] == pytest.approx(caps[0]["saved_per_case"] / 0.01)
    assert caps[1]["saved_per_case"] > caps[0]["saved_per_case"]  # both limits: the larger removal applies


def test_input_price_sources() -> None:
    from evalkit.project._run import _input_prices
    from evalkit.runs import Manifest

    prices = _input_prices(Manifest.model_validate({"run_id": "r", "configs": [
        {"name": "a", "price": {"input": 3e-6, "output": 1.5e-5, "source": "suite"}},
        {"name": "b", "price": None, "model": "gpt-4o-mini"},  # the run found no price: stays unknown
        {"name": "c", "model": "no-such-model-xyz"},
    ]}))
    assert prices["a"] == (3e-6, "suite")
    assert prices["b"] == (None, "unknown") and prices["c"] == (None, "unknown")


def test_input_price_falls_back_to_bundled_map_when_manifest_has_no_price_key() -> None:
    from evalkit.pricing import litellm_price_map_path, lookup_price
    from evalkit.project._run import _input_prices

    assert litellm_price_map_path() is not None, "litellm is a declared dependency: its price map must load"
    expected = lookup_price("gpt-4o-mini")
    assert expected is not None
    from evalkit.runs import Manifest

    manifest = Manifest.model_validate({"run_id": "r", "configs": [{"name": "d", "model": "gpt-4o-mini"}]})
    price, source = _input_prices(manifest)["d"]
    assert price == expected.input and source.startswith("litellm-bundled")


def test_good_rate_lost_interval_is_not_a_point_when_nothing_is_lost() -> None:
    """No case lost in the run is not "no loss for certain": the overall good-rate lost (and the truncated
    share) get the stratified Wilson/MOVER interval, as the per-segment rows do, not a collapsed bootstrap
    ("0.0% [0.0%, 0.0%] n=1500")."""
    from evalkit.stats import stratified

    n = 1500
    h = History(tokens=np.full(n, 2000.0), turns_included=np.full(n, 20.0),
                deciding_from_end=np.full(n, 3.0),  # the deciding fact is always recent: a 10-turn cap loses none
                good=np.ones(n, bool), attempts=np.ones(n))
    segs = np.array(["a"] * 1000 + ["b"] * 500)
    strata = build_strata(segs, {"a": 0.8, "b": 0.2}, min_cases=1)
    out = cap_whatif(ContextCap(turns=10), h, strata, input_price=None, mean_cost=None, volume=1000)
    lost = out["good_rate_lost"]
    assert lost["value"] == 0.0 and lost["lo"] == 0.0 and lost["hi"] > 0 and lost["n"] == n
    assert lost["hi"] == pytest.approx(stratified([0, 0], [1000, 500], [0.8, 0.2], exact_limits=False).hi)
    assert out["truncated_rate"]["value"] == 1.0 and out["truncated_rate"]["lo"] < 1.0
