"""A lean aiohttp transport for OpenAI-compatible chat completions (``http_client: aiohttp``).

The openai SDK spends most of its per-request time in its own machinery (request options,
pydantic response models, httpx), which caps one process at a few hundred requests per
second. This transport posts the same JSON body with one pooled ``aiohttp.ClientSession``,
parses the JSON response with the standard library, and maps HTTP failures to the same
``ProviderError`` kinds the SDK path produces, so the executor's retry policy is unchanged.
"""

from __future__ import annotations

import json
from typing import Any

from evalkit.providers._errors import (
    ProviderError,
    error_fields,
    is_redirect,
    kind_for_status,
    never_sent,
    parse_retry_after,
    rate_limit_headers,
    redirect_error,
)

OPENAI_BASE_URL = "https://api.openai.com/v1"


class AiohttpChatTransport:
    """POST ``{base_url}/chat/completions`` with a pooled session (created on first use, in the running loop)."""

    def __init__(self, *, base_url: str | None, api_key: str, organization: str | None, timeout_s: float,
                 provider: str = "openai", max_connections: int = 0) -> None:
        self.url = (base_url or OPENAI_BASE_URL).rstrip("/") + "/chat/completions"
        self.headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json",
                        "Accept": "application/json"}
        if organization:
            self.headers["OpenAI-Organization"] = organization
        self.timeout_s = timeout_s
        self.provider = provider
        self.max_connections = max_connections  # 0 = unlimited (the executor bounds concurrency)
        self._session: Any = None

    def _get_session(self) -> Any:
        if self._session is None or self._session.closed:
            import aiohttp

            connector = aiohttp.TCPConnector(limit=self.max_connections, ttl_dns_cache=300, keepalive_timeout=30)
            self._session = aiohttp.ClientSession(connector=connector, headers=self.headers,
                                                  timeout=aiohttp.ClientTimeout(total=self.timeout_s),
                                                  json_serialize=json.dumps, raise_for_status=False)
        return self._session

    async def post(self, body: dict[str, Any],
                   extra_headers: dict[str, str] | None = None) -> tuple[dict[str, Any], dict[str, str]]:
        """The parsed JSON response and its rate-limit headers; ``ProviderError`` for HTTP errors, timeouts,
        refused connections, bad JSON."""
        import aiohttp

        session = self._get_session()
        try:
            # never follow a redirect: aiohttp would carry the key headers along (see _errors.redirect_error)
            async with session.post(self.url, data=json.dumps(body), headers=extra_headers,
                                    allow_redirects=False) as resp:
                raw = await resp.read()
                status, headers = resp.status, resp.headers
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise ProviderError(f"timed out after {self.timeout_s}s: {exc or 'no response'}", kind="timeout",
                                provider=self.provider) from None
        except aiohttp.ClientError as exc:
            raise ProviderError(f"connection failed: {exc}", kind="connection", provider=self.provider,
                                sent=not never_sent(exc)) from None
        if is_redirect(status):
            raise redirect_error(status, headers.get("location"), self.provider,
                                 rate_limits=rate_limit_headers(headers))
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = None
        if status >= 400:
            message, code, etype = error_fields(data)
            from evalkit.providers._openai import usage_from_openai

            usage = usage_from_openai(data["usage"]) if isinstance(data, dict) and isinstance(data.get("usage"), dict) else None
            text = message or raw[:300].decode("utf-8", "replace") or f"HTTP {status}"
            raise ProviderError(text, kind=kind_for_status(status, code, etype), status=status,
                                retry_after_s=parse_retry_after(headers), usage=usage, provider=self.provider,
                                rate_limits=rate_limit_headers(headers))
        if not isinstance(data, dict):
            raise ProviderError(f"unreadable response: not a JSON object: {raw[:200]!r}", kind="bad_response",
                                status=status, provider=self.provider)
        return data, rate_limit_headers(headers)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
