"""Response cache: concurrent writers, layout, stats/prune and the ``evalkit cache`` CLI."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest
import typer
from typer.testing import CliRunner

from evalkit.cli._cache import register
from evalkit.providers._base import Message, ModelRequest, ModelResponse, Usage
from evalkit.run._cache import CorruptCacheEntry, ResponseCache


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


@pytest.mark.parametrize("damage", ["torn", "flipped byte", "other valid JSON", "no checksum", "other key"])
def test_a_damaged_entry_is_corrupt_never_served(home, damage):
    cache = ResponseCache()
    req, other = _req(1), _req(2)
    cache.put(req, ModelResponse(text="approve"))
    cache.put(other, ModelResponse(text="deny"))
    path = cache.path_for(req.cache_key())
    payload = json.loads(path.read_bytes())
    if damage == "torn":
        path.write_bytes(path.read_bytes()[:25])
    elif damage == "flipped byte":
        data = bytearray(path.read_bytes())
        data[data.index(b"approve")] ^= 0x01  # 'approve' -> '`pprove': still valid JSON
        path.write_bytes(bytes(data))
    elif damage == "other valid JSON":
        payload["response"]["text"] = "deny"
        path.write_text(json.dumps(payload))
    elif damage == "no checksum":
        del payload["sha256"]
        path.write_text(json.dumps(payload))
    else:  # a valid entry of another request copied over this one
        path.write_bytes(cache.path_for(other.cache_key()).read_bytes())
    with pytest.raises(CorruptCacheEntry, match="corrupt response-cache entry") as err:
        cache.get(req.cache_key())
    assert str(path) in str(err.value) and err.value.exit_code == 2
    assert [e.path for e in cache.corrupt([req.cache_key(), other.cache_key()])] == [path]
    assert cache.get(other.cache_key()).text == "deny"  # intact entries are still served
    cache.put(req, ModelResponse(text="approve"))  # re-recording replaces it
    assert cache.get(req.cache_key()).text == "approve"


def test_entries_from_before_checksums_are_still_served(home):
    cache = ResponseCache()
    req = _req(3)
    path = cache.put(req, ModelResponse(text="approve"))
    payload = json.loads(path.read_bytes())
    del payload["sha256"]
    payload["schema"] = 1  # what evalkit wrote before entries carried their checksum
    path.write_text(json.dumps(payload))
    assert cache.get(req.cache_key()).text == "approve"
    payload["key"] = _req(4).cache_key()  # but never another request's answer
    path.write_text(json.dumps(payload))
    with pytest.raises(CorruptCacheEntry, match="another request"):
        cache.get(req.cache_key())


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


def test_cache_stats_names_corrupt_entries_and_prune_corrupt_deletes_only_them(tmp_path, monkeypatch):
    """`evalkit cache stats` crashed on an entry holding `[1,2]` (internal error, exit 3) and counted a
    tampered entry as a normal one; every entry now passes the checks a served one passes, the corrupt
    ones are listed, and `cache prune --corrupt` deletes exactly those."""
    import json as _json

    from typer.testing import CliRunner

    from evalkit.cli.main import app
    from evalkit.run._cache import ResponseCache

    monkeypatch.setenv("EVALKIT_HOME", str(tmp_path / "home"))
    cache = ResponseCache()
    good = cache.put_answer("k:" + "a" * 64, ModelResponse(text="{}", usage=Usage(input_tokens=1, output_tokens=1)),
                            provider="openai", model="large")
    tampered = cache.put_answer("k:" + "b" * 64, ModelResponse(text="{}"), provider="openai", model="large")
    doc = _json.loads(tampered.read_text())
    doc["response"]["text"] = "changed"
    tampered.write_text(_json.dumps(doc))
    listed = cache.path_for("k:" + "c" * 64)
    listed.parent.mkdir(parents=True, exist_ok=True)
    listed.write_text("[1, 2]")
    empty = cache.path_for("k:" + "d" * 64)
    empty.parent.mkdir(parents=True, exist_ok=True)
    empty.write_text("{}")
    out = CliRunner().invoke(app, ["cache", "stats"], env={"COLUMNS": "300"})
    assert out.exit_code == 0, out.output
    assert "entries: 4" in out.output and "openai/large: 1" in out.output and "(corrupt): 3" in out.output
    assert all(f"corrupt: {p}" in out.output for p in (tampered, listed, empty))
    out = CliRunner().invoke(app, ["cache", "prune", "--corrupt"])
    assert out.exit_code == 0 and "removed 3 corrupt entries" in out.output
    assert good.is_file() and not any(p.exists() for p in (tampered, listed, empty))
    assert CliRunner().invoke(app, ["cache", "prune", "--corrupt", "--all"]).exit_code == 2
