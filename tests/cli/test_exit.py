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


def test_a_reader_that_goes_away_does_not_change_the_outcome(tmp_path):
    """`evalkit ... 2>&1 | head -1`: once the pipe's reader is gone, output is dropped and the command
    ends with its own status (2 here: bad input), not click's exit 1 for a broken pipe (1 means a gate
    failed) nor an internal-error log. Both streams go through the same redacting wrapper."""
    import json
    import os

    rows = tmp_path / "cases.jsonl"  # 4,000 problems: far more than a pipe holds once its reader is gone
    rows.write_text("".join(json.dumps({"case_id": f"c{i}", "not_a_field": i}) + "\n" for i in range(4000)))
    env = {**os.environ, "EVALKIT_HOME": str(tmp_path / "home"), "EVALKIT_DATASETS": str(tmp_path / "store")}
    proc = subprocess.Popen([sys.executable, "-m", "evalkit.cli.main", "dataset", "import", str(rows), "--name", "x",
                             "--version", "v1", "--task", "upgrades"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    assert proc.stderr.readline()
    proc.stderr.close()  # the reader goes away after one line, like `head -1`
    assert proc.wait(timeout=120) == 2
    assert not (tmp_path / "home" / "logs").exists()
    assert not (tmp_path / "store" / "x").exists()


def test_a_path_that_cannot_be_used_is_bad_input_not_an_internal_error(tmp_path):
    """`--reports` naming a file (or a folder evalkit may not write) was 'internal error ... please
    report it' with exit 3; it is the user's path: exit 2 naming it, and no traceback log."""
    import os

    afile = tmp_path / "afile"
    afile.write_text("")
    env = {**os.environ, "EVALKIT_HOME": str(tmp_path / "home")}
    repo = __import__("pathlib").Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "evalkit.cli.main", "run", str(repo / "suites" / "upgrades-demo.yaml"),
                           "--config", "rules", "--limit", "5", "--reports", str(afile), "--datasets",
                           str(repo / "datasets"), "--quiet"], env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 2, done.stderr
    assert f"cannot use {afile}" in done.stderr and "Not a directory" in done.stderr
    assert "internal error" not in done.stderr and not (tmp_path / "home" / "logs").exists()
