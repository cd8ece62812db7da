"""Offline token counting with tiktoken's o200k_base encoding.

tiktoken downloads its BPE files on first use, which fails offline. litellm's wheel
ships the same files (verified by tiktoken's own sha256 check), so we point
TIKTOKEN_CACHE_DIR at them without importing litellm. When the BPE file cannot be
loaded we fall back to a 4-characters-per-token estimate, which callers label approximate.
"""

from __future__ import annotations

import os
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any


def _litellm_tokenizer_dir() -> Path | None:
    spec = find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "litellm_core_utils" / "tokenizers"
    return path if path.is_dir() else None


@lru_cache(maxsize=1)
def _encoder() -> Any | None:
    import tiktoken  # a declared dependency: no import fallback

    if not os.environ.get("TIKTOKEN_CACHE_DIR"):
        bundled = _litellm_tokenizer_dir()
        if bundled is not None:
            os.environ["TIKTOKEN_CACHE_DIR"] = str(bundled)
    try:
        encoder = tiktoken.Encoding(**_o200k_base())
    except Exception:  # noqa: BLE001 - any failure to load the BPE (offline, corrupt) means: estimate
        return None
    # tiktoken keeps the merge ranks as a Python dict beside its Rust encoder, only for pickling
    # the Encoding (which we never do): ~28 MB of every run's process, and of its report.
    if isinstance(getattr(encoder, "_mergeable_ranks", None), dict):
        encoder._mergeable_ranks = {}
    return encoder


def _o200k_base() -> dict[str, Any]:
    """tiktoken's o200k_base constructor arguments, from a marshal copy in EVALKIT_HOME when there is
    one (parsing the base64 BPE file costs ~0.15 s of every run's start; the copy loads in ~0.04 s).

    The copy is named by the sha256 of tiktoken's encoding definitions (``tiktoken_ext.openai_public``,
    which pins the BPE file by its own sha256) and tiktoken's version: another tiktoken or another
    definition never reads it. A copy that does not load is replaced."""
    import hashlib
    import marshal

    import tiktoken
    from tiktoken_ext import openai_public

    from evalkit._home import evalkit_home

    source = Path(openai_public.__file__).read_bytes()
    key = hashlib.sha256(source + tiktoken.__version__.encode()).hexdigest()[:24]
    copy = evalkit_home() / "tokenizers" / f"o200k_base-{key}.marshal"
    try:
        args = marshal.loads(copy.read_bytes())
        if isinstance(args, dict) and args.get("name") == "o200k_base":
            return args
    except (OSError, EOFError, ValueError, TypeError):
        pass
    args = openai_public.o200k_base()
    try:
        from evalkit._io import write_binary

        copy.parent.mkdir(parents=True, exist_ok=True)
        write_binary(copy, marshal.dumps(args))
    except OSError:
        pass  # a read-only home: parsed again next time
    return args


def tokenizer_name() -> str:
    return "o200k_base" if _encoder() is not None else "approx-4-chars"


def count_tokens(text: str) -> int:
    enc = _encoder()
    if enc is None:
        return max(1, len(text) // 4)
    if len(text) >= _REPEATED_MIN_CHARS:
        return _count_repeated(text)
    return len(enc.encode(text, disallowed_special=()))


# A configuration's system prompt (its policy) is the same long text on every one of its calls, and
# configurations that differ only in model or policy send the same case text: remembering long texts'
# counts saves most of the tokenizer's time on a run. The texts are the run's own requests (alive
# anyway), so the cache costs little beyond its entries; it holds a configuration's worth of cases.
_REPEATED_MIN_CHARS = 1000


@lru_cache(maxsize=8192)
def _count_repeated(text: str) -> int:
    enc = _encoder()
    return len(enc.encode(text, disallowed_special=())) if enc is not None else max(1, len(text) // 4)


def forget_repeated_counts() -> None:
    """Drop the remembered counts of long texts (and so the texts): a run calls it once its prompts
    are sent, when the cache would be all that keeps them alive (~6 MB at 2,000 cases)."""
    _count_repeated.cache_clear()


def release_encoder() -> None:
    """Let go of the loaded encoder (~45 MB of Rust tables) and the remembered counts; the next count
    loads it again (~0.17 s). For a process done counting for a while (a run once it has planned)."""
    _encoder.cache_clear()
    forget_repeated_counts()


def encoder_loaded() -> bool:
    """Whether this process holds the encoder now (a forked child inherits it for free)."""
    return _encoder.cache_info().currsize > 0


def count_message_tokens(messages: list[dict[str, str]] | tuple[Any, ...]) -> int:
    """Tokens of a chat request: content plus ~4 tokens of framing per message (OpenAI's rule of thumb)."""
    total = 0
    for m in messages:
        content = m["content"] if isinstance(m, dict) else m.content
        total += count_tokens(content) + 4
    return total + 2
