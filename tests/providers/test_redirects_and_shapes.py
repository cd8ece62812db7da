"""What a provider does with answers that are not a normal answer, on every route (the real openai,
anthropic and litellm clients, and the aiohttp transport, over real HTTP against loopback servers):

- a 3xx is never followed: the key never reaches the origin the Location names, and the call is a
  final, not-billed ``client_error`` naming the status and that origin, so the user fixes base_url;
- litellm's refused connections and failed TLS handshakes were never sent (not possibly billed), and
  an unreadable 200 is a possibly billed ``bad_response``, as on the native providers;
- well-formed JSON of the wrong shape is a ``bad_response``, never an ok answer;
- an answer cut at ``max_tokens`` says so (``finish_reason``/``truncated``) in the journal, the results
  table and the run summary's per-configuration count."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web
from providerhelpers import records_of_a_failing_call

from evalkit.pricing import lookup_price
from evalkit.providers._anthropic import AnthropicProvider
from evalkit.providers._base import Message, ModelRequest, ModelResponse
from evalkit.providers._errors import ProviderError
from evalkit.providers._litellm import LiteLLMProvider
from evalkit.providers._openai import OpenAIProvider
from evalkit.run._retry import classify
from evalkit.testing import FaultPlan, LoopbackServer, echo_responder

KEY_ENV = "EVALKIT_REDIRECT_PROBE_API_KEY"
KEY = "sk-evalkit-redirect-probe-0123456789abcdef"

# route -> (provider factory(base url of the server), model)
ROUTES: dict[str, tuple[Callable[[str], Any], str]] = {
    "openai": (lambda url: OpenAIProvider(base_url=url + "/v1", api_key_env=KEY_ENV), "gpt-4o-mini"),
    "openai-aiohttp": (lambda url: OpenAIProvider(base_url=url + "/v1", api_key_env=KEY_ENV, http_client="aiohttp"),
                       "gpt-4o-mini"),
    "anthropic": (lambda url: AnthropicProvider(base_url=url, api_key_env=KEY_ENV), "claude-haiku-4-5"),
    "litellm-openai": (lambda url: LiteLLMProvider(base_url=url + "/v1", api_key_env=KEY_ENV), "openai/gpt-4o-mini"),
    "litellm-anthropic": (lambda url: LiteLLMProvider(base_url=url, api_key_env=KEY_ENV),
                          "anthropic/claude-haiku-4-5"),
}


def _request(model: str, n: int = 0) -> ModelRequest:
    return ModelRequest(provider="x", model=model, params={"max_tokens": 50},
                        messages=(Message(role="user", content=f"Customer {n} asks to add seats."),))


@contextlib.asynccontextmanager
async def _listener(handler: Callable[[web.Request], Any]) -> AsyncIterator[str]:
    """A loopback server on 127.0.0.1 answering every method and path with ``handler``; its base URL."""
    app = web.Application()
    app.router.add_route("*", "/{path:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    finally:
        await runner.cleanup()


async def _outcome(provider: Any, model: str) -> ModelResponse | ProviderError:
    try:
        return await provider.complete(_request(model))
    except ProviderError as exc:
        return exc
    finally:
        await provider.aclose()


# -- redirects ---------------------------------------------------------------------

@pytest.mark.parametrize("route", list(ROUTES))
def test_a_redirect_is_never_followed_and_is_a_final_unbilled_failure(route, home, tmp_path, monkeypatch):
    """The litellm anthropic route followed a 307 to another port and sent ``x-api-key`` there; every
    client followed it. Now nothing reaches the other origin, and the executor records one attempt,
    failed for good (not retried, not possibly billed), naming HTTP 307 and the other origin."""
    monkeypatch.setenv(KEY_ENV, KEY)
    make, model = ROUTES[route]
    seen: list[tuple[str, str, dict[str, str]]] = []

    async def record(request: web.Request) -> web.Response:
        seen.append((request.method, request.path, dict(request.headers)))
        return web.json_response({"error": {"message": "not the API", "type": "invalid_request_error"}}, status=400)

    async def go() -> tuple[list[Any], list[Any], str]:
        async with _listener(record) as other, LoopbackServer(
                responder=echo_responder, redirect_to=other,
                faults=FaultPlan(kinds=("redirect",), first_attempts=99)) as srv:
            records = await records_of_a_failing_call(make(srv.base_url), _request(model), tmp_path / "run",
                                                      max_attempts=4)
            return records, list(srv.log), other

    records, log, other = asyncio.run(go())
    assert [h.status for h in log] == [307], log  # one attempt, answered 307, not retried
    assert seen == [], f"{route} followed the redirect: {[(m, p, sorted(h)) for m, p, h in seen]}"
    [rec] = records
    assert rec.status == "failed" and rec.error_class == "client_error" and rec.attempts == 1, rec
    assert rec.possibly_billed_attempts == 0 and not rec.billed_usage
    message = rec.error_message or ""
    assert message.startswith(f"HTTP 307: a redirect to {other};") and "base_url" in message, message
    assert "Traceback" not in message and "\n" not in message
    for path in (tmp_path / "run").rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_a_redirect_message_names_only_the_origin():
    from evalkit.providers._errors import origin_of, redirect_error

    err = redirect_error(301, "https://user:pw@api.example.com:8443/v1/chat?api-key=sk-secret#x", "openai")
    assert "https://api.example.com:8443" in str(err)
    assert "sk-secret" not in str(err) and "user" not in str(err) and "/v1/chat" not in str(err)
    assert err.kind == "client_error" and not err.retryable and err.status == 301
    assert not classify(err).possibly_billed
    assert origin_of("/v1/messages") == "a relative address (the same server)"
    assert origin_of(None) == "no Location"


# -- litellm: never sent, unreadable ---------------------------------------------------

def _free_port() -> int:
    with socket.socket() as probe:  # free a moment ago, closed again: nothing listens there
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_litellm_refused_and_tls_failures_were_never_sent():
    """litellm's anthropic route reported both as a 500 server_error: retried as a server fault and never
    known as 'not sent'. On both routes both are connection errors that never left (nothing billed)."""
    async def go() -> dict[tuple[str, str], Any]:
        async def hello(request: web.Request) -> web.Response:
            return web.Response(text="hello")

        out = {}
        async with _listener(hello) as url:
            tls = url.replace("http://", "https://")  # TLS to a plain-HTTP server: the handshake fails
            for route in ("litellm-anthropic", "litellm-openai"):
                suffix = "/v1" if route == "litellm-openai" else ""
                for fault, base in (("refused", f"http://127.0.0.1:{_free_port()}"), ("tls", tls)):
                    out[route, fault] = await _outcome(LiteLLMProvider(base_url=base + suffix, timeout_s=10),
                                                       ROUTES[route][1])
        return out

    got = asyncio.run(go())
    wrong = {k: (type(v).__name__, getattr(v, "kind", None), getattr(v, "status", None), str(v)[:120])
             for k, v in got.items()
             if not (isinstance(v, ProviderError) and v.kind == "connection" and v.sent is False and v.retryable)}
    assert wrong == {}, wrong
    for err in got.values():
        assert err.status is None and not classify(err).possibly_billed
        assert "SSLContext object" not in str(err) and "Traceback" not in str(err), str(err)


UNREADABLE_200 = {
    "plain text": ("hello", "text/plain"),
    "html": ("<html><body>502 Bad Gateway</body></html>", "application/json"),
    "wrong shape": (json.dumps({"choices": [{"message": "a string", "finish_reason": "stop"}], "usage": "lots"}),
                    "application/json"),
    "no choices": (json.dumps({"id": "x", "object": "chat.completion", "choices": []}), "application/json"),
}


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")  # litellm dumps the odd body it got
def test_litellm_unreadable_200_is_a_possibly_billed_bad_response():
    """A 200 litellm cannot read was a 500 server_error on its openai route (and an IndexError escaped for an
    empty choices list): on both routes it is the native providers' bad_response, retried, possibly billed."""
    async def go() -> dict[tuple[str, str], Any]:
        current: dict[str, tuple[str, str]] = {}

        async def answer(request: web.Request) -> web.Response:
            body, content_type = current["body"]
            return web.Response(status=200, text=body, content_type=content_type)

        out: dict[tuple[str, str], Any] = {}
        async with _listener(answer) as url:
            for label, body in UNREADABLE_200.items():
                current["body"] = body
                for route in ("litellm-anthropic", "litellm-openai"):
                    base = url + ("/v1" if route == "litellm-openai" else "")
                    try:
                        out[route, label] = await _outcome(LiteLLMProvider(base_url=base), ROUTES[route][1])
                    except Exception as exc:  # noqa: BLE001 - what escaped the provider is the finding
                        out[route, label] = exc
        return out

    got = asyncio.run(go())
    wrong = {k: (type(v).__name__, getattr(v, "kind", None), getattr(v, "status", None), str(v)[:120])
             for k, v in got.items() if not (isinstance(v, ProviderError) and v.kind == "bad_response")}
    assert wrong == {}, wrong
    for err in got.values():
        assert err.retryable and err.status is None and classify(err).possibly_billed
        assert "Traceback" not in str(err) and "\n" not in str(err)


# -- well-formed JSON of the wrong shape on the native providers -------------------------

_OPENAI_OK = {"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
              "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
              "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
_ANTHROPIC_OK = {"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
                 "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn", "stop_sequence": None,
                 "usage": {"input_tokens": 3, "output_tokens": 1}}
WRONG_SHAPES = {
    "openai": {
        "message a string": {**_OPENAI_OK, "choices": [{"index": 0, "message": "hi", "finish_reason": "stop"}]},
        "content an int": {**_OPENAI_OK, "choices": [{"index": 0, "message": {"role": "assistant", "content": 42},
                                                      "finish_reason": "stop"}]},
        "usage a string": {**_OPENAI_OK, "usage": "lots"},
        "usage a number": {**_OPENAI_OK, "usage": 4},
    },
    "anthropic": {
        "not a message": {"foo": 1},
        "content a string": {**_ANTHROPIC_OK, "content": "hi"},
        "usage a string": {**_ANTHROPIC_OK, "usage": "lots"},
    },
}


def test_native_providers_read_json_of_the_wrong_shape_as_a_bad_response(monkeypatch):
    """A ``usage`` that is a string was an ok answer with every count unknown (openai) or with cache counts
    of 0 (anthropic); each wrong shape is a bad_response on the SDK path and the aiohttp transport."""
    monkeypatch.setenv(KEY_ENV, KEY)
    async def go() -> dict[tuple[str, str], Any]:
        current: dict[str, Any] = {}

        async def answer(request: web.Request) -> web.Response:
            return web.json_response(current["body"])

        out = {}
        async with _listener(answer) as url:
            for family, shapes in WRONG_SHAPES.items():
                for label, body in shapes.items():
                    current["body"] = body
                    routes = ("openai", "openai-aiohttp") if family == "openai" else ("anthropic",)
                    for route in routes:
                        make, model = ROUTES[route]
                        out[route, label] = await _outcome(make(url), model)
            current["body"] = _OPENAI_OK  # the well-formed bodies still answer
            out["openai", "ok"] = await _outcome(ROUTES["openai"][0](url), "m")
            current["body"] = _ANTHROPIC_OK
            out["anthropic", "ok"] = await _outcome(ROUTES["anthropic"][0](url), "m")
        return out

    got = asyncio.run(go())
    assert got.pop(("openai", "ok")).text == "hi" and got.pop(("anthropic", "ok")).text == "hi"
    wrong = {k: (v if isinstance(v, ProviderError) else f"ok answer {v.text!r} usage={v.usage}")
             for k, v in got.items() if not (isinstance(v, ProviderError) and v.kind == "bad_response")}
    assert wrong == {}, wrong
    for (route, label), err in got.items():
        # billed: by the usage the body reports when it is readable, else possibly (its worst case)
        readable_usage = label not in ("usage a string", "usage a number", "not a message")
        assert (err.usage is not None) is readable_usage, (route, label, err.usage)
        assert readable_usage or classify(err).possibly_billed
        assert "errors.pydantic.dev" not in str(err)


# -- answers cut at max_tokens -----------------------------------------------------------

def _cut_responder(request: ModelRequest) -> ModelResponse:
    """Every answer stops at the output cap (half a JSON object)."""
    return echo_responder(request).model_copy(update={"text": '{"action": "appr', "finish_reason": "length"})


def test_an_answer_cut_at_max_tokens_is_truncated_on_every_route(monkeypatch):
    """OpenAI says ``length``, Anthropic ``max_tokens`` (litellm says ``length`` for both): each is a
    truncated answer, and a normal one is not."""
    monkeypatch.setenv(KEY_ENV, KEY)

    async def go() -> dict[str, Any]:
        out = {}
        async with LoopbackServer(responder=_cut_responder) as srv:
            for route, (make, model) in ROUTES.items():
                out[route] = await _outcome(make(srv.base_url), model)
        async with LoopbackServer(responder=echo_responder) as srv:
            out["whole"] = await _outcome(ROUTES["anthropic"][0](srv.base_url), "claude-haiku-4-5")
        return out

    got = asyncio.run(go())
    whole = got.pop("whole")
    assert not whole.truncated and whole.finish_reason == "end_turn"
    for route, resp in got.items():
        assert isinstance(resp, ModelResponse), (route, resp)
        assert resp.truncated, (route, resp.finish_reason)
    assert got["anthropic"].finish_reason == "max_tokens" and got["openai"].finish_reason == "length"


def test_truncated_answers_are_journaled_tabled_and_counted_per_configuration(home, tmp_path):
    from evalkit.run._executor import execute
    from evalkit.run._journal import JOURNAL_NAME
    from evalkit.run._records import ExecutionOptions, PlannedCall, truncated_counts, truncation_warnings
    from evalkit.run._tables import results_table, write_results
    from evalkit.runs import Summary

    def responder(request: ModelRequest) -> ModelResponse:  # answers to "cut" configurations hit the cap
        cut = "cut" in request.messages[0].content
        return _cut_responder(request) if cut else echo_responder(request)

    calls = [PlannedCall(config=cfg, case_id=f"c{i}", segment="s", sample_index=0, est_input_tokens=20,
                         request=ModelRequest(provider="openai", model="gpt-4o-mini", params={"max_tokens": 8},
                                              messages=(Message(role="system", content=f"config {cfg}"),
                                                        Message(role="user", content=f"case {i}"))))
             for cfg in ("short-cut", "roomy") for i in range(3)]

    async def go() -> list[Any]:
        async with LoopbackServer(responder=responder) as srv:
            provider = OpenAIProvider(base_url=srv.openai_base_url)
            try:
                return await execute(calls, providers={"short-cut": provider, "roomy": provider},
                                     prices={"short-cut": lookup_price("gpt-4o-mini"),
                                             "roomy": lookup_price("gpt-4o-mini")},
                                     run_dir=tmp_path, options=ExecutionOptions(progress=False, cache_mode="off"))
            finally:
                await provider.aclose()

    records = asyncio.run(go())
    assert all(r.status == "ok" for r in records)
    lines = [json.loads(x) for x in (tmp_path / JOURNAL_NAME).read_text().splitlines() if '"response"' in x]
    assert sorted(x["response"]["finish_reason"] for x in lines) == ["length"] * 3 + ["stop"] * 3
    counts = truncated_counts(records)
    assert counts == {"short-cut": 3}
    assert truncation_warnings(counts) == ["short-cut: 3 answers were cut at max_tokens; raise max_tokens"]
    assert truncation_warnings({"a": 1}) == ["a: 1 answer was cut at max_tokens; raise max_tokens"]

    write_results(tmp_path, results_table("r1", records))
    import pandas as pd

    table = pd.read_parquet(tmp_path / "results.parquet")
    by_config = table.groupby("config")["truncated"].sum().to_dict()
    assert by_config == {"roomy": 0, "short-cut": 3}
    assert set(table.loc[table["truncated"], "finish_reason"]) == {"length"}

    head = {"interval": "wilson", "gap_interval": "newcombe", "denominator": "all", "cost_policy": "nominal",
            "configs": {}}
    assert "truncated" not in Summary.model_validate(head).dump()  # a run without cut answers: unchanged file
    assert Summary.model_validate({**head, "truncated": counts}).dump()["truncated"] == {"short-cut": 3}
