"""Falling back from a batch to direct calls (at the standard price, about twice the batch price) is
never silent, and is not done lightly:

- a transient error creating a batch is tried again (it sent every call directly at once, saying nothing);
- a batch that cannot be created after those tries, or whose polls keep failing, falls back with a warning
  on stderr, a count in the manifest, and a report header that does not claim batch prices for every call;
- an abandoned batch is cancelled (it kept running, billed, while its calls were paid again directly).

Real SDKs against the loopback server's batch APIs."""

from __future__ import annotations

import pytest
from batchhelpers import KEY, REPO, config, ledger, write_suite

from evalkit.testing import BatchAPIs, LoopbackServer, echo_responder


@pytest.fixture(autouse=True)
def _env(monkeypatch, tmp_path):
    monkeypatch.setenv("EVALKIT_TEST_KEY", KEY)
    monkeypatch.setenv("EVALKIT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def _run(suite, reports, limit: int = 40):
    from evalkit.pipeline import RunRequest, run_suite

    return run_suite(RunRequest(suite_path=suite, reports=reports, datasets=REPO / "datasets", progress=False,
                                cache_mode="off", limit=limit))


def _both(server) -> str:
    return (config("oai", "openai", "gpt-4o-mini", server.openai_base_url)
            + config("ant", "anthropic", "claude-haiku-4-5", server.anthropic_base_url))


def test_a_transient_error_creating_a_batch_is_tried_again(tmp_path, capsys):
    batches = BatchAPIs(delay_s=0.01, refuse_creates=1)  # one 500 per API
    with LoopbackServer(responder=echo_responder, extensions=[batches.install]) as server:
        outcome = _run(write_suite(tmp_path, _both(server), name="retried"), tmp_path / "reports")
        direct = sum(server.hits.values())
    assert dict(batches.refused) == {"openai": 1, "anthropic": 1}
    assert dict(batches.created) == {"openai": 1, "anthropic": 1}
    assert direct == 0  # nothing sent at the standard price
    report = outcome.manifest["execution"]
    assert report["batch_answers"] == 80 and report["fallback_calls"] == 0 and report["submit_failed_calls"] == 0
    assert "warning" not in capsys.readouterr().err


def test_a_batch_that_cannot_be_created_falls_back_out_loud(tmp_path, capsys):
    from evalkit.report import build_report

    batches = BatchAPIs(delay_s=0.01, refuse_creates=100)  # the provider never creates one
    with LoopbackServer(responder=echo_responder, extensions=[batches.install]) as server:
        suite = write_suite(tmp_path, config("oai", "openai", "gpt-4o-mini", server.openai_base_url),
                            name="refused")
        outcome = _run(suite, tmp_path / "reports")
        direct = sum(server.hits.values())
    assert batches.refused["openai"] == 4 and batches.created["openai"] == 0  # 4 tries, then direct
    assert direct == 40
    err = capsys.readouterr().err
    assert "could not create a batch of 40 calls for configuration 'oai' (4 attempts" in err
    assert "directly at the standard price" in err
    assert "40 of 40 batched calls fell back to direct calls at the standard price" in err
    report = outcome.manifest["execution"]
    assert report["submit_failed_calls"] == 40 and report["fallback_calls"] == 40 and report["batch_answers"] == 0
    assert report["standard_price_calls"] == 40 and "fell back" in report["fallback_note"]
    assert [e["event"] for e in ledger(outcome.run_dir)] == ["submitting", "submit_failed"]
    page = build_report([outcome.run_dir], out=tmp_path / "report.html").read_text()
    assert "for 0 calls; 40 sent directly at standard prices (40 fell back from a batch)" in page


def test_an_abandoned_batch_is_cancelled_and_said(tmp_path, capsys):
    batches = BatchAPIs(delay_s=0.01, poll_errors=1000)  # every poll fails
    with LoopbackServer(responder=echo_responder, extensions=[batches.install]) as server:
        suite = write_suite(tmp_path, _both(server), name="abandoned")  # default: 20 failed polls in a row
        outcome = _run(suite, tmp_path / "reports")
        direct = sum(server.hits.values())
    assert dict(batches.created) == {"openai": 1, "anthropic": 1}
    assert dict(batches.cancelled) == {"openai": 1, "anthropic": 1}  # not left running (and billed)
    assert direct == 80
    err = capsys.readouterr().err
    assert err.count("it could not be polled 20 times in a row") == 2 and err.count("cancelled it") == 2
    report = outcome.manifest["execution"]
    assert report["abandoned_batches"] == 2 and report["cancelled_batches"] == 2 and report["abandoned_calls"] == 80
    assert report["fallback_calls"] == 80 and report["batch_answers"] == 0
    events = [e["event"] for e in ledger(outcome.run_dir)]
    assert events.count("abandoned") == 2 and events.count("cancelled") == 2


def test_a_failed_cancel_is_said_with_what_to_do(tmp_path, capsys):
    """A provider that refuses the cancel too: the user is told to cancel the batch by hand."""
    from aiohttp import web

    def no_cancel(app, server):
        async def refuse(request):
            return web.json_response({"error": {"message": "nope", "type": "server_error"}}, status=500)

        app.router.add_post("/v1/batches/{id}/cancel", refuse)

    batches = BatchAPIs(delay_s=0.01, poll_errors=1000)
    with LoopbackServer(responder=echo_responder, extensions=[no_cancel, batches.install]) as server:
        suite = write_suite(tmp_path, config("oai", "openai", "gpt-4o-mini", server.openai_base_url),
                            name="uncancelled", execution=", batch_max_poll_errors: 2")
        outcome = _run(suite, tmp_path / "reports", limit=10)
    assert batches.cancelled["openai"] == 0
    err = capsys.readouterr().err
    assert "cancelling it failed too" in err and "cancel batch batch_" in err
    assert outcome.manifest["execution"]["cancelled_batches"] == 0
    assert "cancel_failed" in [e["event"] for e in ledger(outcome.run_dir)]


def test_results_that_cannot_be_read_fall_back_without_crashing_the_run(tmp_path, capsys):
    """A batch that ended but whose results download keeps failing: its calls go directly (it raised out
    of the run before), and nothing is cancelled (the batch is over)."""
    from aiohttp import web

    def broken_results(app, server):
        async def fail(request):
            return web.json_response({"type": "error", "error": {"type": "api_error", "message": "boom"}},
                                     status=500)

        app.router.add_get("/v1/messages/batches/{id}/results", fail)

    batches = BatchAPIs(delay_s=0.01)
    with LoopbackServer(responder=echo_responder, extensions=[broken_results, batches.install]) as server:
        suite = write_suite(tmp_path, config("ant", "anthropic", "claude-haiku-4-5", server.anthropic_base_url),
                            name="unreadable", execution=", batch_max_poll_errors: 2")
        outcome = _run(suite, tmp_path / "reports", limit=10)
        direct = sum(server.hits.values())
    assert direct == 10 and batches.cancelled["anthropic"] == 0
    err = capsys.readouterr().err
    assert "its results could not be read 2 times in a row" in err and "nothing to cancel" in err
    report = outcome.manifest["execution"]
    assert report["abandoned_batches"] == 1 and report["fallback_calls"] == 10 and len(outcome.scores) == 10
