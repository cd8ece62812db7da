"""Response cache: concurrent writers, layout, stats/prune and the ``evalkit cache`` CLI."""

from __future__ import annotations

import os
import threading
import time

import typer
from typer.testing import CliRunner

from evalkit.cli._cache import register
from evalkit.providers._base import Message, ModelRequest, ModelResponse, Usage
from evalkit.run._cache import ResponseCache


def _req(i: int) -> ModelRequest:
    return ModelRequest(provider="openai", model="gpt-4o-mini", messages=(Message(role="user", content=f"q{i}"),))


def test_concurrent_writers_never_leave_a_partial_entry(home):
    cache = ResponseCache()
    req = _req(0)
    key = req.cache_key()
    big = "x" * 200_000
    errors = []

    def writer(n):
        for j in range(20):
            cache.put(req, ModelResponse(text=f"{n}-{j}-{big}", usage=Usage(input_tokens=1, output_tokens=1)))

    def reader():
        for _ in range(200):
            got = cache.get(key)
            if got is not None and not got.text.endswith(big):
                errors.append("partial read")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)] + [threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert cache.get(key).text.endswith(big)
    shard = cache.path_for(key).parent
    assert [p.name for p in shard.iterdir()] == [cache.path_for(key).name]  # no temp files left
    digest = key.split(":")[1]
    assert cache.path_for(key).relative_to(cache.root).parts == (digest[:2], digest[2:4], f"{digest}.json")


def test_torn_entry_is_a_miss(home):
    cache = ResponseCache()
    req = _req(1)
    path = cache.path_for(req.cache_key())
    path.parent.mkdir(parents=True)
    path.write_text('{"key": "sha')
    assert cache.get(req.cache_key()) is None
    cache.put(req, ModelResponse(text="ok"))
    assert cache.get(req.cache_key()).text == "ok"


def test_stats_prune_and_cli(home):
    cache = ResponseCache()
    for i in range(5):
        cache.put(_req(i), ModelResponse(text=str(i)))
    old = cache.path_for(_req(0).cache_key())
    ten_days = time.time() - 10 * 86400
    os.utime(old, (ten_days, ten_days))
    assert cache.stats().entries == 5
    assert cache.stats().by_model == {"openai/gpt-4o-mini": 5}

    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # a second command keeps typer in group mode
    cli = CliRunner()
    out = cli.invoke(app, ["cache", "stats"])
    assert out.exit_code == 0 and "entries: 5" in out.output
    out = cli.invoke(app, ["cache", "prune", "--older-than", "7"])
    assert out.exit_code == 0 and "removed 1 entry" in out.output
    assert cache.get(_req(0).cache_key()) is None and cache.get(_req(1).cache_key()) is not None
    out = cli.invoke(app, ["cache", "prune"])
    assert out.exit_code == 2 and "exactly one of" in out.output
    out = cli.invoke(app, ["cache", "prune", "--all"])
    assert out.exit_code == 0 and "removed 4 entries" in out.output
    assert cache.stats().entries == 0
