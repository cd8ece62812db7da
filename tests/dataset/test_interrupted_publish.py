"""A publish that is stopped (SIGTERM, Ctrl-C, kill -9) leaves no temp folder for good: SIGTERM unwinds
through the clean-up like Ctrl-C (exit 143), and the next publish removes folders of writers that are gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future

import pytest

from evalkit.dataset import write_dataset
from evalkit.dataset._parquet import _wait_out
from evalkit.dataset._publish import UNOWNED_TEMP_AGE_S, _host_tag, remove_stale_temp_folders


def test_sigterm_during_a_publish_removes_the_temp_folder_and_exits_143(toy, store):
    def cases():
        for number, case in enumerate(toy.generate(50, 5)):
            if number == 10:
                assert any(p.name.startswith(".tmp-") for p in (store / "imp").iterdir())
                os.kill(os.getpid(), signal.SIGTERM)
            yield case

    with pytest.raises(SystemExit) as stopped:
        write_dataset(cases(), name="imp", version="v1", task="toy", store=store)
    assert stopped.value.code == 143
    assert not (store / "imp").exists()  # no temp folder, not even the name folder this publish made
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the default is back once the publish ends


def test_an_interruption_waits_for_the_write_in_flight_before_the_writer_closes():
    pending: Future[None] = Future()
    threading.Timer(0.3, pending.set_result, args=(None,)).start()

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        with pytest.raises(KeyboardInterrupt):
            _wait_out(pending)
        assert pending.done()  # closing the parquet writer under a running write crashed the process
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _gone_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_publish_removes_temp_folders_whose_writer_is_gone(toy, store):
    name_dir = store / "imp"
    host = _host_tag()
    dead = name_dir / f".tmp-v1-aaaaaaaaaaaa-p{_gone_pid()}-h{host}"
    live = name_dir / f".tmp-v2-bbbbbbbbbbbb-p{os.getpid()}-h{host}"
    old_unowned = name_dir / ".tmp-v1.3-4e9547108295"  # an older evalkit's, untouched for long
    fresh_unowned = name_dir / ".tmp-v1.4-5f9547108295"
    for folder in (dead, live, old_unowned, fresh_unowned):
        folder.mkdir(parents=True)
        (folder / "cases.parquet").write_bytes(b"partial")
    long_ago = time.time() - UNOWNED_TEMP_AGE_S - 60
    for path in (old_unowned / "cases.parquet", old_unowned):
        os.utime(path, (long_ago, long_ago))

    write_dataset(list(toy.generate(3, 5)), name="imp", version="v1", task="toy", store=store)

    assert sorted(p.name for p in name_dir.iterdir()) == sorted([live.name, fresh_unowned.name, "v1"])
    assert remove_stale_temp_folders(name_dir) == []
