"""THE redaction layer: no API key leaves memory.

Everything evalkit writes goes through here: ``evalkit._io`` (JSON, text, parquet
through ``evalkit._redact_table``, report HTML), the run journal, the response cache, the
console (the CLI wraps stdout/stderr in ``evalkit._redacting_stream.RedactingStream``) and
exception messages (``EvalkitError`` and
``ProviderError`` redact their message when raised). What is redacted:

* the values of key environment variables: the usual provider names
  (``KNOWN_KEY_ENVS``), any variable whose name looks like a credential
  (``*_API_KEY``, ``*_TOKEN``, ``*_SECRET``...), every configuration's
  ``options.api_key_env`` (recorded by ``declare_secret_envs`` when a suite is loaded)
  and any name listed in ``EVALKIT_SECRET_ENV`` (comma-separated);
* key-shaped strings: ``sk-…`` / ``sk-ant-…`` and other vendors' key prefixes,
  ``Bearer …`` tokens, ``api-key=``/``key=``/``token=`` query values, userinfo in URLs
  (``https://user:pass@host``), ``x-api-key``/``authorization``/``api_key`` header or
  field values.

``find_secrets`` is the refusing side: suite loading uses it to reject a key written
into a suite file or passed with ``--set``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from typing import Any

MASK = "***"
SECRET_ENV_LIST = "EVALKIT_SECRET_ENV"
"""Comma-separated names of extra environment variables whose values are secrets."""

KNOWN_KEY_ENVS = (
    "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "AZURE_OPENAI_API_KEY", "AZURE_API_KEY", "GEMINI_API_KEY",
    "GOOGLE_API_KEY", "MISTRAL_API_KEY", "COHERE_API_KEY", "CO_API_KEY", "GROQ_API_KEY", "TOGETHER_API_KEY",
    "TOGETHERAI_API_KEY", "DEEPSEEK_API_KEY", "OPENROUTER_API_KEY", "XAI_API_KEY", "FIREWORKS_API_KEY",
    "FIREWORKS_AI_API_KEY", "PERPLEXITYAI_API_KEY", "REPLICATE_API_KEY", "HUGGINGFACE_API_KEY", "HF_TOKEN",
    "LITELLM_API_KEY", "LITELLM_MASTER_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "VERTEXAI_CREDENTIALS",
)
_SECRET_NAME = re.compile(r"(?:API_?KEY|_TOKEN|_SECRET|SECRET_KEY|_PASSWORD|ACCESS_KEY|_CREDENTIALS?)$", re.IGNORECASE)
_MIN_VALUE_LEN = 8  # shorter values ("1", "dev") would redact ordinary words

# (pattern, replacement). Group 1, when present, is kept (the field name, the scheme...).
_KEY_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    # userinfo in URLs: https://user:pass@host -> https://***@host
    # (bounded repeats: a long word or a run of dots must stay linear, never rescanned from every position)
    (re.compile(r"(?i)\b([a-z][a-z0-9+.\-]{0,31}://)[^\s/@\"'<>]{1,512}@"), r"\1" + MASK + "@"),
    # key-like query values: ?api-key=..., ?access_token=...; ?key=, ?token=, ?auth= only when the value is
    # credential-shaped (``_credential``): "?token=upgrade-flow" in a wiki link is not a key
    (re.compile(r"(?i)([?&;](?:api[-_]?key|access[-_]?token|sig|signature|secret|password)=)"
                r"[^&#\s\"'<>]+"), r"\1" + MASK),
    (re.compile(r"(?i)([?&;](?:key|token|auth)=)([^&#\s\"'<>]+)"), "credential"),
    # header or field values: x-api-key: ..., api_key=...; "authorization": X only when X is credential-shaped
    # ("authorization: manager approval" is prose; "Authorization: Bearer ..." is masked by the Bearer rule)
    (re.compile(r"(?i)((?:x-api-key|api[-_]?key|x-goog-api-key|access[-_]?token"
                r"|client[-_]?secret|secret[-_]?key)[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic)\s+)?+)(?!\*\*\*)"
                r"[^\s\"',;}&<>]+"), r"\1" + MASK),
    (re.compile(r"(?i)((?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)(?!\*\*\*)([^\s\"',;}&<>]+)"), "credential"),
    # Bearer credentials wherever they appear; Basic ones when the word after "basic" is base64-shaped
    # (``_credential``): "Basic subscribers keep..." or a plan named basic is prose, not a header
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9\-._~+/]{8,}=*"), r"\1" + MASK),
    (re.compile(r"(?i)\b(basic\s+)([A-Za-z0-9\-._~+/]{8,}=*)"), "credential"),
    # vendor key prefixes: OpenAI/Anthropic sk-, Google AIza, GitHub gh*_, HF hf_, Groq gsk_, xAI xai-, AWS AKIA
    (re.compile(r"\b(sk-)[A-Za-z0-9][A-Za-z0-9_\-]{9,}"), r"\1" + MASK),
    (re.compile(r"\b(?:AIza[0-9A-Za-z_\-]{30,}|gh[pousr]_[A-Za-z0-9]{30,}|hf_[A-Za-z0-9]{30,}|gsk_[A-Za-z0-9]{20,}"
                r"|xai-[A-Za-z0-9]{20,}|AKIA[0-9A-Z]{16})\b"), MASK),
)
# One RE2-compatible pattern that matches wherever any key shape could (parquet columns are
# screened with it in pyarrow before any Python-level replacement).
DETECT_PATTERN = (r"(?i)(?:\b[a-z][a-z0-9+.\-]{0,31}://[^\s/@\"'<>]{1,512}@|[?&;](?:api[-_]?key|key|token|access[-_]?token|auth|sig"
           r"|signature|secret|password)=|bearer\s|basic\s|x-api-key|api[-_]?key|authorization|access[-_]?token"
           r"|client[-_]?secret|secret[-_]?key|\bsk-[a-z0-9]|\baiza|\bgh[pousr]_|\bhf_|\bgsk_|\bxai-|\bakia)")


def secret_env_names(environ: Mapping[str, str] | None = None) -> list[str]:
    """Names of the environment variables whose values are treated as secrets."""
    env = os.environ if environ is None else environ
    declared = [n.strip() for n in env.get(SECRET_ENV_LIST, "").split(",") if n.strip()]
    names = set(KNOWN_KEY_ENVS) | set(declared) | {n for n in env if _SECRET_NAME.search(n)}
    return sorted(names)


def secret_values(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The values of the secret variables that are set (long enough to be keys), longest first."""
    env = os.environ if environ is None else environ
    # as set, and as sent: providers strip the value (a CI secret or $(cat keyfile) ends with a newline)
    values = {v for n in secret_env_names(env) for v in {env.get(n) or "", (env.get(n) or "").strip()}
              if len(v) >= _MIN_VALUE_LEN}
    return tuple(sorted(values, key=lambda v: (-len(v), v)))


def declare_secret_envs(names: Iterable[str | None]) -> None:
    """Add variable names (a suite's ``api_key_env`` options) to ``EVALKIT_SECRET_ENV``.

    The list lives in the process environment on purpose: every writer, thread and
    forked scoring worker sees it, and so does any child process evalkit starts.
    """
    current = [n for n in os.environ.get(SECRET_ENV_LIST, "").split(",") if n]
    new = [n for n in names if n and n not in current]
    if new:
        os.environ[SECRET_ENV_LIST] = ",".join(current + new)


_VENDOR_PREFIX = re.compile(r"^(?:sk-(?:proj-|svcacct-|admin-|ant-(?:[a-z]+\d*-)?)?|gsk_|xai-|hf_|gh[pousr]_|AIza)")


def _base64_runs(value: str) -> set[str]:
    """The base64 text any message holding ``value`` encodes it as, whatever its offset: the groups of
    four characters made only of the value's bytes, at each of the three byte alignments (a server that
    echoes ``Basic base64(user:KEY)`` or a base64'd request), standard and URL-safe alphabets."""
    import base64

    raw = value.encode("utf-8")
    runs: set[str] = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode("ascii")
        first = -(-shift // 3)  # the first group of 3 bytes lying wholly inside the value
        last = (shift + len(raw)) // 3  # one past the last such group
        core = encoded[4 * first:4 * last]
        if len(core) >= _MIN_VALUE_LEN:
            runs.update({core, core.replace("+", "-").replace("/", "_")})
    return runs


@lru_cache(maxsize=8)
def secret_forms(values: tuple[str, ...]) -> tuple[str, ...]:
    """Every form a secret value may be echoed in, longest first: as given, inside a JSON string,
    URL-encoded, its body without a vendor prefix (``sk-proj-``...: the part that is the secret), and
    base64 (a key echoed by a server that way was stored as given)."""
    from urllib.parse import quote

    forms: set[str] = set()
    for v in values:
        forms.update({v, json.dumps(v)[1:-1], quote(v, safe="")})
        body = _VENDOR_PREFIX.sub("", v)
        if body != v and len(body) >= _MIN_VALUE_LEN:
            forms.add(body)
        forms |= _base64_runs(v)
    return tuple(sorted(forms, key=lambda f: (-len(f), f)))


@lru_cache(maxsize=8)
def _literal_pattern(values: tuple[str, ...]) -> re.Pattern[str] | None:
    forms = secret_forms(values)
    return re.compile("|".join(re.escape(f) for f in forms)) if forms else None


@lru_cache(maxsize=1)
def _detector() -> re.Pattern[str]:
    return re.compile(DETECT_PATTERN)


# Substrings at least one of which every match of DETECT_PATTERN contains (lower-cased); a plain substring
# test is ~20x faster than the case-insensitive alternation, which scans from every word start.
_ANCHORS = ("://", "key=", "token=", "auth=", "sig=", "signature=", "secret", "password=", "bearer", "basic",
            "api-key", "apikey", "api_key", "authorization", "access", "sk-", "aiza", "ghp_", "gho_", "ghu_",
            "ghs_", "ghr_", "hf_", "gsk_", "xai-", "akia")


def _may_hold_key(text: str) -> bool:
    """False only when no key shape can match ``text`` (non-ASCII text: Unicode case folding lets
    e.g. the Kelvin sign match "k", so only the full pattern can tell)."""
    if text.isascii():
        low = text.lower()
        if not any(a in low for a in _ANCHORS):
            return False
    return _detector().search(text) is not None


def redact_text(text: str, *, values: tuple[str, ...] | None = None) -> str:
    """``text`` with every secret value and key-shaped string replaced by ``***``."""
    if not text:
        return text
    literal = _literal_pattern(secret_values() if values is None else values)
    if literal is not None:
        text = literal.sub(MASK, text)
    if not _may_hold_key(text):  # most texts are clean: skip the per-shape passes
        return text
    for pattern, repl in _KEY_SHAPES:
        text = pattern.sub(_credential if repl == "credential" else repl, text)
    return text


def _credential(match: re.Match[str]) -> str:
    """``Basic X``, ``authorization: X``, ``?token=X`` with X masked when X looks like a credential, not a
    word: a digit, base64 padding, a capital after a small letter, or 24 characters and more (tokens and
    base64 have them; "Subscribers", "manager" and "upgrade-flow" have none). A key that is a lower-case
    word is still masked by value."""
    token = match.group(2)
    shaped = (any(c.isdigit() for c in token) or token.endswith("=") or len(token) >= 24
              or re.search(r"[a-z][^A-Z]*[A-Z]", token))
    return match.group(1) + MASK if shaped else match.group(0)


def redact_obj(obj: Any, *, values: tuple[str, ...] | None = None) -> Any:
    """A copy of a JSON-like value (dicts, lists, strings) with every string redacted."""
    values = secret_values() if values is None else values
    if isinstance(obj, str):
        return redact_text(obj, values=values)
    if isinstance(obj, Mapping):
        return {redact_obj(k, values=values) if isinstance(k, str) else k: redact_obj(v, values=values)
                for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(redact_obj(v, values=values) for v in obj)
    return obj


_SECRET_WORDS = frozenset({"key", "apikey", "token", "secret", "password", "passwd", "authorization", "auth",
                           "cookie", "credential", "credentials", "bearer"})


def is_secret_name(name: str) -> bool:
    """True for an option or header name that carries a credential (``api_key``, ``x-api-key``,
    ``Authorization``, ``access_token``...). Judged word by word, so ``max_tokens`` is not one;
    names ending in ``_env`` name a variable, not a value."""
    low = name.lower()
    if low.endswith("_env"):
        return False
    return any(word in _SECRET_WORDS for word in re.split(r"[^a-z0-9]+", low))


def redact_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Copy of provider options with secret-named entries masked and every string redacted."""
    out: dict[str, Any] = {}
    for key, value in options.items():
        if is_secret_name(str(key)):
            out[key] = MASK
        elif isinstance(value, Mapping):
            out[key] = redact_options(value)
        else:
            out[key] = redact_obj(value)
    return out


def find_secrets(obj: Any, *, where: str = "") -> Iterator[tuple[str, str]]:
    """(path, what) for every secret written into a JSON-like value: key-shaped strings,
    values of set key variables, credential-named header fields and URLs with userinfo
    or a key parameter. Paths are dotted (``configs[0].options.base_url``)."""
    values = secret_values()
    if isinstance(obj, Mapping):
        for key, value in obj.items():
            path = f"{where}.{key}" if where else str(key)
            if isinstance(value, str) and value and is_secret_name(str(key)):
                yield path, f"a credential field ({key})"
                continue
            yield from find_secrets(value, where=path)
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            yield from find_secrets(value, where=f"{where}[{i}]")
    elif isinstance(obj, str) and redact_text(obj, values=values) != obj:
        yield where, _what(obj, values)


def _what(text: str, values: tuple[str, ...]) -> str:
    if any(v in text for v in secret_forms(values)):
        return "the value of a key environment variable"
    if re.search(r"(?i)[a-z][a-z0-9+.\-]*://[^\s/@]+@", text):
        return "credentials in a URL (user:password@)"
    if re.search(r"(?i)[?&;][a-z_-]*=", text) and "://" in text:
        return "a key in a URL query (?api-key=...)"
    return "a key-shaped string"


__all__ = ["DETECT_PATTERN", "KNOWN_KEY_ENVS", "MASK", "SECRET_ENV_LIST", "declare_secret_envs", "find_secrets",
           "is_secret_name", "redact_obj", "redact_options", "redact_text", "secret_env_names", "secret_forms",
           "secret_values"]
