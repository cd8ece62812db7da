from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
from score_fixtures import Decision
from pydantic import BaseModel, model_validator

from evalkit.score import parse_decision

GOOD = {"action": "approve", "new_price": "19.99", "seats": 3, "message": "Your new price is $19.99 from June."}
GOOD_JSON = json.dumps(GOOD)


def _ok(text: str) -> Decision:
    res = parse_decision(text, Decision)
    assert res.error is None, res.error
    assert res.ok and isinstance(res.decision, Decision)
    assert isinstance(res.raw_json, dict)
    return res.decision


@pytest.mark.parametrize("text", [
    GOOD_JSON,
    "  \n" + GOOD_JSON + "\n",
    f"```json\n{GOOD_JSON}\n```",
    f"```\n{GOOD_JSON}\n```",
    f"Here is my decision:\n```json\n{json.dumps(GOOD, indent=2)}\n```\nLet me know if you need more.",
    f"{GOOD_JSON}\n\nI approved because the customer is on an annual plan.",
    f"After reviewing the history I conclude: {GOOD_JSON} That is final.",
    # OpenAI function call: arguments are a JSON *string*
    json.dumps({"name": "submit_decision", "arguments": GOOD_JSON}),
    json.dumps({"tool_calls": [{"type": "function", "function": {"name": "submit", "arguments": GOOD_JSON}}]}),
    # Anthropic tool_use block
    json.dumps({"type": "tool_use", "name": "submit", "input": GOOD}),
    # doubly-encoded
    json.dumps(GOOD_JSON),
])
def test_shapes_parse(text):
    d = _ok(text)
    assert d.action == "approve" and d.seats == 3 and d.new_price == Decimal("19.99")


def test_nested_braces_inside_strings():
    obj = dict(GOOD, message='Use code {PROMO} } now { "quoted" }')
    text = "Sure! " + json.dumps(obj) + " {not json}"
    assert _ok(text).message == obj["message"]


def test_first_valid_object_wins_over_earlier_invalid_one():
    example = {"action": "<approve|deny>", "new_price": "x"}
    real = dict(GOOD, action="deny")
    text = f"The format is {json.dumps(example)}. My answer: {json.dumps(real)} and also {GOOD_JSON}"
    assert _ok(text).action == "deny"


def test_decimals_exact_from_numbers_and_strings():
    for raw in ("19.99", "19.990000000000001", "0.1"):
        text = json.dumps({**GOOD, "new_price": 0}).replace('"new_price": 0', f'"new_price": {raw}')
        assert _ok(text).new_price == Decimal(raw)  # no float round trip
    assert _ok(json.dumps({**GOOD, "new_price": "1234.50"})).new_price == Decimal("1234.50")
    res = parse_decision('{"action":"approve","new_price":19.99,"seats":1}', Decision)
    assert res.raw_json["new_price"] == Decimal("19.99")


@pytest.mark.parametrize("text,reason", [
    ("", "empty"),
    ("   ", "empty"),
    (None, "empty"),
    ("I'm sorry, I cannot help with that.", "no_json"),
    ('{"action": "approve", "new_price": "19.99", "seats": 3, "mess', "json_truncated"),
    ('Decision: {"action": "approve", "new_price": ', "json_truncated"),
    ("{'action': 'approve'}", "json_syntax"),
    ("[1, 2, 3]", "not_object"),
    ('"just a string"', "not_object"),
    (json.dumps({**GOOD, "action": "refund_everything"}), "schema:action:literal_error"),
    (json.dumps({k: v for k, v in GOOD.items() if k != "seats"}), "schema:seats:missing"),
    (json.dumps({**GOOD, "new_price": "cheap"}), "schema:new_price:decimal_parsing"),
    (json.dumps({**GOOD, "ignore_previous": True}), "schema:ignore_previous:extra_forbidden"),
])
def test_invalid_outputs_give_reason(text, reason):
    res = parse_decision(text, Decision)
    assert res.decision is None and not res.ok
    assert res.error == reason


def test_schema_error_keeps_best_candidate():
    worse = {"foo": 1}
    closer = {**GOOD, "seats": "many"}
    res = parse_decision(f"{json.dumps(worse)} then {json.dumps(closer)}", Decision)
    assert res.error == "schema:seats:int_parsing"
    assert res.raw_json == json.loads(json.dumps(closer))


def test_every_truncation_of_valid_output_is_invalid_never_raises():
    text = f"```json\n{json.dumps(GOOD, indent=1)}\n```"
    close = text.index("}") + 1  # the object is complete from here on
    for cut in range(len(text)):
        res = parse_decision(text[:cut], Decision)
        if cut < close:
            assert res.decision is None and res.error, (cut, res)
        else:
            assert res.ok


def test_adversarial_inputs_do_not_raise_and_stay_fast():
    cases = ["{" * 200_000, "[" * 100_000 + "]" * 100_000, '{"a":' * 50_000, "\x00\ud800{}}}{{",
             "```json\n" * 1000, json.dumps([[[[[[GOOD]]]]]])]
    start = time.perf_counter()
    for text in cases:
        res = parse_decision(text, Decision)
        assert res.decision is None or isinstance(res.decision, Decision)
        assert res.error is None or isinstance(res.error, str)
    assert time.perf_counter() - start < 5.0


def test_validator_that_raises_unexpected_exception_is_invalid():
    class Picky(BaseModel):
        x: int

        @model_validator(mode="after")
        def boom(self):
            raise RuntimeError("bug in a validator")

    res = parse_decision('{"x": 1}', Picky)
    assert res.decision is None and res.error == "schema:$:RuntimeError"
