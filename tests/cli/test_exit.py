"""The console entry point ends the process without the interpreter's teardown (``cli.main._leave``).
It must still end it the way ``sys.exit`` would: the same status, the atexit handlers run, non-daemon
threads finished, buffered output flushed (also into a pipe)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.mark.parametrize(("code", "status", "stderr"), [(0, 0, ""), (None, 0, ""), (2, 2, ""), (3, 3, ""),
                                                        ("'the message'", 1, "the message\n")])
def test_status_is_what_sys_exit_gives(code, status, stderr):
    done = _python(f"""
        from evalkit.cli.main import _leave
        _leave({code})
        """)
    assert done.returncode == status
    assert done.stderr == stderr


def test_handlers_threads_and_buffers_are_not_lost():
    done = _python("""
        import atexit, sys, threading, time
        from evalkit.cli.main import _leave

        atexit.register(lambda: print("atexit handler ran"))
        def late():
            time.sleep(0.3)
            print("thread finished")
        threading.Thread(target=late).start()
        sys.stdout.write("buffered " * 10_000)  # more than the pipe's buffer, not flushed by hand
        sys.stdout.write("\\n")
        print("to stderr", file=sys.stderr)
        _leave(3)
        """)
    assert done.returncode == 3
    lines = done.stdout.splitlines()
    assert lines[0] == "buffered " * 10_000
    assert lines[1:] == ["thread finished", "atexit handler ran"]
    assert done.stderr == "to stderr\n"


def test_the_command_line_keeps_its_output_and_status(tmp_path):
    env_free = {"EVALKIT_HOME": str(tmp_path / "home")}
    bad = subprocess.run([sys.executable, "-m", "evalkit.cli.main", "run", str(tmp_path / "missing.yaml")],
                         capture_output=True, text=True, timeout=120, check=False, env={**_env(), **env_free})
    assert bad.returncode == 2
    assert "missing.yaml" in bad.stderr and "Traceback" not in bad.stderr
    ok = subprocess.run([sys.executable, "-m", "evalkit.cli.main", "--help"], capture_output=True, text=True,
                        timeout=120, check=False, env={**_env(), **env_free})
    # the same help through typer's own exit (sys.exit and the interpreter's teardown)
    plain = subprocess.run([sys.executable, "-c", "from evalkit.cli.main import app; "
                            "app(prog_name='python -m evalkit.cli.main', args=['--help'])"],
                           capture_output=True, text=True, timeout=120, check=False, env={**_env(), **env_free})
    assert ok.returncode == plain.returncode == 0
    assert ok.stdout == plain.stdout and "cache" in ok.stdout


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "COLUMNS": "100"}
