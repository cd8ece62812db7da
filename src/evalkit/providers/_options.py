"""Checking a network provider's suite options where the provider is created.

Each provider declares its options as a pydantic model (a subclass of ``NetworkOptions``); a
wrong type or value (``timeout_s: abc``, ``timeout_s: -1``, ``base_url: htp:/nonsense``) is a
``ConfigError`` naming the option and the value, raised before anything is planned or sent
(``run/_setup`` adds the configuration's name: exit 2). A misspelt option is refused by
``reject_unknown_options`` first, with its own message.

``required_key_env`` says which key variable a configuration needs but finds unset, so a run can
refuse (exit 2, naming it) before its first request instead of sending a placeholder key.
"""

from __future__ import annotations

import math
import os
import re
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from evalkit.providers._errors import reject_unknown_options

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

M = TypeVar("M", bound="NetworkOptions")


def env_endpoint(*names: str) -> str | None:
    """The base URL an SDK takes from the environment when the suite gives none (``OPENAI_BASE_URL``...):
    where the requests go, so part of every request's cache key (``ModelRequest.endpoint``)."""
    for name in names:
        value = (os.environ.get(name) or "").strip()
        if value:
            return value
    return None


def request_shape(options: BaseModel, names: tuple[str, ...], **effective: Any) -> dict[str, Any]:
    """The options among ``names`` that change what a provider sends, where not at their defaults (their
    ``effective`` values where the provider normalises them): part of every request's cache key."""
    out = {}
    for name in names:
        value = effective.get(name, getattr(options, name))
        if value != type(options).model_fields[name].default:
            out[name] = value
    return out


class NetworkOptions(BaseModel):
    """Options every network provider takes."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    base_url: str | None = None
    api_key_env: str | None = None
    """None: the provider's default variable (or, for litellm, litellm's own lookup)."""
    timeout_s: float = Field(default=60.0, gt=0)

    @field_validator("timeout_s")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number of seconds")
        return value

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            parts = urlsplit(value)
            port = parts.port  # raises on a port that is not a number
        except ValueError as exc:
            raise ValueError(f"not a URL ({exc})") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host, e.g. http://127.0.0.1:8000/v1")
        if value != value.strip() or any(c.isspace() for c in value):
            raise ValueError("contains whitespace")
        if parts.query or parts.fragment:  # the SDKs append their path after the base URL: ?x=1/chat/...
            raise ValueError("must not carry a query or fragment (the SDKs append their own path to it)")
        del port
        return value

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            raise ValueError("must be the NAME of an environment variable (letters, digits, _), not a key")
        return value


def _shown(value: Any) -> Any:
    """An option's value as an error message may show it: a URL's query and fragment are masked (a
    ``?code=...`` or ``#token`` there may be a credential the key-shape redaction does not know)."""
    if not isinstance(value, str) or not ("?" in value or "#" in value):
        return value
    try:
        parts = urlsplit(value)
    except ValueError:
        return value.split("?", 1)[0].split("#", 1)[0] + "?***"
    return urlunsplit(parts._replace(query="***" if parts.query else "", fragment="***" if parts.fragment else ""))


def check_options(provider: str, model: type[M], given: dict[str, Any]) -> M:
    """The provider's options, checked; ConfigError naming each bad option and its value."""
    reject_unknown_options(provider, {k: v for k, v in given.items() if k not in model.model_fields})
    try:
        return model(**given)
    except ValidationError as exc:
        from evalkit.errors import ConfigError

        by_option: dict[str, list[str]] = {}
        for err in exc.errors(include_url=False):
            name = str(err["loc"][0]) if err["loc"] else "options"
            by_option.setdefault(name, []).append(err["msg"].removeprefix("Value error, "))
        problems = [f"option {name}={_shown(given.get(name))!r}: {' or '.join(msgs)}" for name, msgs in by_option.items()]
        raise ConfigError(f"provider {provider!r}: " + "; ".join(problems)) from None


def required_key_env(api_key_env: str | None, default_env: str | None, base_url: str | None) -> str | None:
    """The key variable that must be set for this provider to send, when it is not set (else None).

    A variable the suite names (``api_key_env``) must be set: a placeholder key would only earn
    401s. The provider's default variable (``default_env``) may stay unset for a local server
    (``base_url``), which usually takes any key."""
    if api_key_env is not None:
        return None if key_from_env(api_key_env) else api_key_env
    if default_env is not None and base_url is None and not key_from_env(default_env):
        return default_env
    return None


def key_from_env(name: str) -> str | None:
    """The key variable ``name`` holds, without surrounding whitespace (a key pasted with its newline is
    an illegal header value); None when unset or blank."""
    return (os.environ.get(name) or "").strip() or None


def unusable_key(name: str | None) -> str | None:
    """Why the key variable ``name`` holds a value no HTTP header can carry (None: it can, or it is unset).
    A key travels in a header, which takes printable ASCII only: a pasted key with a non-ASCII letter, a
    space or a control character inside would fail on every attempt without ever being sent."""
    value = key_from_env(name) if name else None
    for position, char in enumerate(value or ""):
        if not "!" <= char <= "~":
            what = ("a space" if char.isspace() else "a non-ASCII character" if ord(char) > 127
                    else "a control character")
            return (f"environment variable {name} holds {what} at position {position + 1} of the key; an HTTP "
                    "header carries printable ASCII only: copy the key again")
    return None
