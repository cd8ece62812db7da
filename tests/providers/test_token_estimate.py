"""The prompt-token estimate the budget's worst case starts from covers what a tokenizer counts in any
script: at ~4 characters a token, a Chinese prompt's worst case was under half its bill and an honest
server's usage crossed ``--max-cost`` by 15-27%. A structured-output schema, sent with the prompt and
billed as input, is counted too."""

from __future__ import annotations

import json

import pytest

from evalkit._tokens import count_tokens
from evalkit.providers import estimate_input_tokens

MARGIN, FRAMING = 1.25, 16  # what the run's ledger adds to the estimate for its worst case

TEXTS = {
    "english": "The customer asks to move from Team to Business at renewal; legacy pricing applies. " * 20,
    "chinese": "客户要求在续订时从团队版升级到商业版，原有价格继续适用，促销结束后按新价格计费。" * 20,
    "japanese": "お客様は更新時にチームからビジネスへの変更を希望しています。旧価格が適用されます。" * 20,
    "russian": "Клиент просит перейти с тарифа Team на Business при продлении; действует старая цена. " * 20,
    "arabic": "يطلب العميل الترقية من خطة الفريق إلى خطة الأعمال عند التجديد مع الاحتفاظ بالسعر القديم. " * 20,
    "emoji": "Upgrade please 🚀🙏✨ seats: 12 → 20 ✅ " * 20,
}


@pytest.mark.parametrize("script", sorted(TEXTS))
def test_the_worst_case_covers_the_tokenizers_count_in_every_script(script):
    text = TEXTS[script]
    assert estimate_input_tokens([text]) * MARGIN + FRAMING >= count_tokens(text)


def test_ascii_text_keeps_its_four_characters_a_token():
    text = TEXTS["english"]
    assert estimate_input_tokens([text]) == len(text) // 4 + 8


def test_a_structured_output_schema_is_counted_as_input():
    schema = {"type": "object", "properties": {f"field_{i}": {"type": "string", "description": "x" * 40}
                                               for i in range(20)}, "additionalProperties": False}
    extra = estimate_input_tokens(["hi"], schema) - estimate_input_tokens(["hi"])
    assert extra * MARGIN >= count_tokens(json.dumps(schema))


HARD = {
    "digits": "Seats 1,2,3,4,5,6,7,8,9,10 at $12.50, $13.75, $14.00; codes 7f3a-91b2-0c4d. " * 30,
    "ethiopic": "ሰላም እንዴት ነህ " * 30,
}


@pytest.mark.parametrize("kind", sorted(HARD))
def test_under_a_budget_the_estimate_is_at_least_the_tokenizers_count(kind):
    """No rule of thumb bounds every text: a table of digits is ~1 token per 2 characters and Ethiopic ~1.75 a
    character, so a run under --max-cost crossed it by 3% and 21%. Such a run counts its prompts."""
    from evalkit._tokens import count_message_tokens
    from evalkit.providers import Message

    messages = (Message(role="system", content="Decide."), Message(role="user", content=HARD[kind]))
    actual = count_message_tokens(messages)
    assert estimate_input_tokens([m.content for m in messages]) * MARGIN + FRAMING < actual  # the rule of thumb
    assert estimate_input_tokens([m.content for m in messages], counted=True) >= actual
