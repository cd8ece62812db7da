"""One error type for every network provider, so the executor's retry policy never
needs to know which SDK raised.

Adapters translate SDK exceptions into ``ProviderError`` with a normalised ``kind``,
the HTTP status, the server's Retry-After (seconds) and the usage the provider
reported for the failed attempt (a 5xx after generation can be billed).
"""

from __future__ import annotations

import email.utils
import time
from typing import Any

from evalkit.providers._base import Usage

# kind -> retryable. Kinds are stable strings: they land in results as ``error_class``.
RETRYABLE_KINDS = {
    "rate_limited": True,
    "overloaded": True,
    "server_error": True,
    "timeout": True,
    "connection": True,
    "bad_response": True,  # truncated / non-JSON body: a proxy hiccup, worth another try
    "conflict": True,
    "quota_exceeded": False,  # 429 insufficient_quota / spend limit: waiting will not help
    "auth_error": False,
    "not_found": False,
    "client_error": False,
    "provider_error": False,
}

_QUOTA_CODES = ("insufficient_quota", "enforced_spend_limit_reached", "billing_hard_limit_reached",
                "quota_exceeded", "spend_limit")


class ProviderError(Exception):
    """A provider call that did not produce an answer."""

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        status: int | None = None,
        retry_after_s: float | None = None,
        usage: Usage | None = None,
        provider: str = "",
        sent: bool | None = None,
        rate_limits: dict[str, str] | None = None,
    ) -> None:
        from evalkit._secrets import redact_text

        super().__init__(redact_text(str(message)))  # error bodies can echo the key that was sent
        self.kind = kind
        self.status = status
        self.retry_after_s = retry_after_s
        self.usage = usage
        self.provider = provider
        self.sent = sent
        """False when the request certainly never left (connection refused): nothing billed."""
        self.rate_limits = rate_limits or {}
        """The server's rate-limit headers on this answer (see ``rate_limit_headers``)."""

    @property
    def retryable(self) -> bool:
        return RETRYABLE_KINDS.get(self.kind, False)


def kind_for_status(status: int | None, code: str | None = None, error_type: str | None = None) -> str:
    """Normalised error kind for an HTTP status plus the provider's error code/type."""
    text = f"{code or ''} {error_type or ''}".lower()
    if any(q in text for q in _QUOTA_CODES):
        return "quota_exceeded"
    if status is None:
        return "provider_error"
    if status == 429:
        return "rate_limited"
    if status == 529 or "overloaded" in text:
        return "overloaded"
    if status >= 500:
        return "server_error"
    if status == 408:
        return "timeout"
    if status == 409:
        return "conflict"
    if status in (401, 403):
        return "auth_error"
    if status == 404:
        return "not_found"
    return "client_error"


def parse_retry_after(headers: Any) -> float | None:
    """Seconds from ``retry-after-ms`` or ``retry-after`` (seconds or HTTP date); None when absent or
    unreadable (a server's malformed header must not turn a 429 into a final failure: the call backs
    off on its own schedule instead)."""
    if headers is None:
        return None
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return max(float(ms) / 1000.0, 0.0)
        raw = headers.get("retry-after")
    except Exception:  # noqa: BLE001 - odd header containers or values: treat as absent
        return None
    if raw is None:
        return None
    try:
        return max(float(raw), 0.0)
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(raw) if raw else None
        return None if parsed is None else max(parsed.timestamp() - time.time(), 0.0)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


_RATE_PREFIXES = ("x-ratelimit-", "anthropic-ratelimit-", "retry-after", "llm_provider-x-ratelimit-",
                  "llm_provider-anthropic-ratelimit-", "llm_provider-retry-after")


def rate_limit_headers(headers: Any) -> dict[str, str]:
    """The rate-limit headers of a response (OpenAI ``x-ratelimit-*``, Anthropic
    ``anthropic-ratelimit-*``, ``retry-after``; litellm's ``llm_provider-`` copies unprefixed),
    lower-cased. Nothing else is kept: these carry no secrets."""
    if not headers:
        return {}
    try:
        items = list(headers.items())
    except Exception:  # noqa: BLE001 - odd header containers: treat as absent
        return {}
    out: dict[str, str] = {}
    for name, value in items:
        low = str(name).lower()
        if low.startswith(_RATE_PREFIXES):
            out[low.removeprefix("llm_provider-")] = str(value)
    return out


def never_sent(exc: BaseException) -> bool:
    """True when a connection error happened before the request left (refused, DNS, connect
    timeout), so the provider cannot have billed it."""
    seen = 0
    cur: BaseException | None = exc
    while cur is not None and seen < 8:
        name = type(cur).__name__
        if name in ("ConnectError", "ConnectTimeout", "ClientConnectorError", "ConnectionRefusedError",
                    "gaierror", "ClientConnectorSSLError", "ClientConnectorCertificateError",
                    "SSLError", "SSLCertVerificationError"):  # a TLS handshake fails before any request byte
            return True
        cur = cur.__cause__ or cur.__context__
        seen += 1
    return False


def error_fields(body: Any) -> tuple[str | None, str | None, str | None]:
    """(message, code, type) from an OpenAI- or Anthropic-shaped error body."""
    if not isinstance(body, dict):
        return None, None, None
    err = body.get("error", body)
    if not isinstance(err, dict):
        return str(err), None, None
    details = err.get("details") if isinstance(err.get("details"), dict) else {}
    code = err.get("code") or details.get("error_code")
    return err.get("message"), (str(code) if code is not None else None), err.get("type")


def reject_unknown_options(provider: str, unknown: dict[str, Any]) -> None:
    """A misspelt suite option must fail loudly, naming itself, not be ignored."""
    if unknown:
        from evalkit.errors import ConfigError

        raise ConfigError(f"provider {provider!r}: unknown option(s) {', '.join(sorted(unknown))}")


def field_of(obj: Any, key: str) -> Any:
    """``obj[key]`` or ``obj.key``: SDKs hand back objects, error bodies and raw JSON are dicts."""
    if obj is None:
        return None
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


def an_object(value: Any, what: str) -> Any:
    """``value`` when it is an object (a dict, an SDK model), else TypeError: a ``usage`` that is a string or
    a number is a body of the wrong shape (a ``bad_response``), not an answer whose usage is unknown."""
    if isinstance(value, (str, bytes, int, float, bool, list, tuple)):
        raise TypeError(f"{what} is a JSON {type(value).__name__}, not an object")
    return value


def error_body(exc: Any) -> Any:
    """The JSON body of an SDK status error, else whatever the SDK parsed (often not JSON)."""
    import json

    try:
        return json.loads(exc.response.text)
    except Exception:  # noqa: BLE001 - error bodies are often not JSON
        return getattr(exc, "body", None)


def is_redirect(status: int | None) -> bool:
    return status is not None and 300 <= status < 400


def origin_of(url: Any) -> str:
    """``scheme://host[:port]`` of a URL, nothing else: never its path, query or userinfo (a Location can
    carry a token)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(str(url or "").strip())
        host = parts.hostname
        port = parts.port
    except ValueError:
        return "an unreadable address"
    if not parts.scheme or not host:
        return "a relative address (the same server)" if url else "no Location"
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def redirect_error(status: int, location: Any, provider: str, *, rate_limits: dict[str, str] | None = None
                   ) -> ProviderError:
    """An API endpoint that answers 3xx is a misconfigured ``base_url``. evalkit never follows a redirect
    (the request carries the API key, and the SDKs forward some key headers to another origin): the
    call fails at once (``client_error``: final, and refused before any model ran, so nothing billed),
    naming the status and the origin it pointed to, never the rest of the Location."""
    # the recorded message reads "HTTP 307: a redirect to https://host:port; ..." (the executor adds the status)
    return ProviderError(f"a redirect to {origin_of(location)}; evalkit does not follow redirects from a model API "
                         f"(the request carries the API key): set base_url to the address that answers",
                         kind="client_error", status=status, provider=provider,
                         rate_limits=rate_limits)


def unreadable(exc: BaseException, provider: str, usage: Usage | None = None) -> ProviderError:
    """A 200 whose JSON has the wrong shape (a string where an object belongs, a wrong type): the same
    ``bad_response`` as a body that is not JSON at all (retried), with the first lines of what was
    wrong, never a traceback or a documentation link. Billed by ``usage`` when the body reports one
    that reads, else possibly billed."""
    first = " ".join(str(exc).splitlines()[:2]).split(" For further information")[0][:200]
    return ProviderError(f"unreadable response: {type(exc).__name__}: {first}", kind="bad_response",
                         provider=provider, usage=usage)
