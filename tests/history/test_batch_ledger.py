"""The batch ledger: a run killed between creating an OpenAI batch and recording its id finds the
batch again by its metadata instead of creating it twice; a torn ledger line is skipped."""

from __future__ import annotations

import asyncio

from evalkit.providers import Message, ModelRequest, create_provider
from evalkit.providers._batch import OpenAIBatchAPI
from evalkit.run._batch import BatchOptions, BatchReport, Ledger, _resume_or_submit, custom_id
from evalkit.run._records import PlannedCall
from evalkit.testing import BatchAPIs, LoopbackServer, echo_responder


def _calls(n: int) -> list[PlannedCall]:
    return [PlannedCall(config="c", case_id=f"case-{i}", segment="s", sample_index=0, est_input_tokens=10,
                        request=ModelRequest(provider="openai", model="gpt-4o-mini",
                                             messages=(Message(role="user", content=f"question {i}"),)))
            for i in range(n)]


def test_a_batch_created_but_not_recorded_is_found_not_resubmitted(tmp_path, monkeypatch):
    monkeypatch.setenv("EVALKIT_TEST_KEY", "k")
    batches = BatchAPIs(delay_s=3600)
    calls = _calls(12)
    by_id = {custom_id(c): c for c in calls}
    with LoopbackServer(responder=echo_responder, extensions=[batches.install]) as server:
        provider = create_provider("openai", base_url=server.openai_base_url, api_key_env="EVALKIT_TEST_KEY")
        api = OpenAIBatchAPI(provider)

        async def scenario():
            try:
                # the killed run: intent recorded, batch created, id never recorded (plus a torn line)
                ledger = Ledger(tmp_path / "batches.jsonl")
                ledger.append({"event": "submitting", "chunk": "chunk1", "config": "c", "ids": list(by_id)})
                await api.submit([api.line(i, c.request) for i, c in by_id.items()],
                                 metadata={"evalkit_run": "run-1", "evalkit_chunk": "chunk1"})
                ledger.path.write_text(ledger.path.read_text() + '{"event": "subm')  # torn by kill -9
                report = BatchReport()
                pending = await _resume_or_submit({"c": calls}, {"c": api}, ledger, "run-1", BatchOptions(),
                                                  report, by_id)
                return pending, report, ledger.read()
            finally:
                await provider.aclose()

        pending, report, events = asyncio.run(scenario())
    assert batches.created["openai"] == 1  # found by metadata, not created again
    assert report.batches_created == 0 and report.batches_resumed == 1
    assert len(pending) == 1 and sorted(pending[0].ids) == sorted(by_id)
    assert [e["event"] for e in events] == ["submitting", "submitted", "resumed"]
    assert events[1]["found_by_metadata"] is True


def test_a_batch_the_provider_keeps_refusing_to_create_falls_back_to_direct_calls(tmp_path, tiny_store,
                                                                                   monkeypatch):
    from histhelpers import write_suite

    from evalkit.pipeline import RunRequest, run_suite

    monkeypatch.setenv("EVALKIT_TEST_KEY", "k")
    batches = BatchAPIs(delay_s=0.01, refuse_creates=4)  # a creation is tried 4 times: the first chunk fails
    with LoopbackServer(responder=echo_responder, extensions=[batches.install]) as server:
        config = f"""  - name: served
    provider: openai
    model: gpt-4o-mini
    prompt: prompts/upgrade-v1.j2
    options: {{base_url: "{server.openai_base_url}", api_key_env: EVALKIT_TEST_KEY}}
"""
        suite = write_suite(tmp_path, config, name="refused",
                            extra="execution: {mode: batch, batch_poll_s: 0.01, batch_max_requests: 20}\n")
        outcome = run_suite(RunRequest(suite_path=suite, reports=tmp_path / "reports", datasets=tiny_store,
                                       progress=False, cache_mode="off"))
        direct = len(server.hits)
    report = outcome.manifest["execution"]
    assert batches.refused["openai"] == 4 and batches.created["openai"] == 2  # 48 cases: 3 chunks, 1 refused
    assert report["submit_failed_calls"] == 20 == direct
    assert (outcome.scores["status"] != "failed").all() and len(outcome.scores) == 48
    assert report["batch_answers"] == 28
