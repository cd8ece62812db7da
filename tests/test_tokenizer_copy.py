"""The tokenizer's marshal copy in EVALKIT_HOME encodes exactly as tiktoken's own o200k_base, is
named by what defines the encoding, and a damaged copy is replaced rather than trusted."""

from __future__ import annotations

import tiktoken

from evalkit import _tokens

TEXTS = ["Upgrade Acme to Business, 40 seats, annual billing; legacy price 19.00/seat until 2026-03-31.",
         "  indented\tand\r\nwindows lines 🙂 ünïcödé — <|endoftext|> as plain text", "x" * 5000]


def _fresh_encoder():
    _tokens._encoder.cache_clear()
    return _tokens._encoder()


def test_the_copy_encodes_exactly_like_tiktoken(monkeypatch, tmp_path):
    monkeypatch.setenv("EVALKIT_HOME", str(tmp_path))
    first = _fresh_encoder()  # parses the BPE file and writes the copy (and points tiktoken at it offline)
    reference = tiktoken.get_encoding("o200k_base")
    (copy,) = (tmp_path / "tokenizers").glob("o200k_base-*.marshal")
    second = _fresh_encoder()  # reads the copy
    for enc in (first, second):
        for text in TEXTS:
            assert enc.encode(text, disallowed_special=()) == reference.encode(text, disallowed_special=())
    assert second.n_vocab == reference.n_vocab
    assert second.decode(second.encode(TEXTS[1], disallowed_special=())) == TEXTS[1]
    assert not getattr(second, "_mergeable_ranks", {})  # the Python copy of the ranks is not kept (~28 MB)
    assert copy.stat().st_size > 1_000_000
    _tokens._encoder.cache_clear()


def test_a_damaged_copy_is_replaced(monkeypatch, tmp_path):
    monkeypatch.setenv("EVALKIT_HOME", str(tmp_path))
    _fresh_encoder()
    (copy,) = (tmp_path / "tokenizers").glob("o200k_base-*.marshal")
    good = copy.read_bytes()
    copy.write_bytes(good[: len(good) // 2])  # a torn write
    enc = _fresh_encoder()
    assert enc.encode(TEXTS[0]) == tiktoken.get_encoding("o200k_base").encode(TEXTS[0])
    assert copy.read_bytes() == good
    _tokens._encoder.cache_clear()
