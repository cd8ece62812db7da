"""Interruptions and refusals leave something useful: Ctrl-C prints the exact command that
resumes the run (exit 130), and a run refused before any call (budget, replay miss) leaves
no run folder behind."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
import time

from test_engine_cli import env, write_suite  # the engine tests' loopback suite (tests/pipeline)

from evalkit.testing import LoopbackServer


def test_ctrl_c_prints_the_exact_resume_command_and_it_finishes_the_run(tmp_path):
    home, reports = tmp_path / "home", tmp_path / "elsewhere" / "reports"  # not ./reports: must be in the hint
    with LoopbackServer(latency_s=0.1) as server:  # 200 calls, 2 at a time: ~10 s, so Ctrl-C lands mid-run
        suite = write_suite(tmp_path, server.openai_base_url, limit=200, concurrency=2)
        # As a terminal would: Ctrl-C raises KeyboardInterrupt even when a background shell started us
        # with SIGINT ignored (which the child would inherit).
        child_code = ("import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
                      "sys.argv = ['evalkit', *sys.argv[1:]]; runpy.run_module('evalkit.cli.main', run_name='__main__')")
        child = subprocess.Popen([sys.executable, "-c", child_code, "run", str(suite), "--quiet",
                                  "--reports", str(reports)], cwd=tmp_path, env=env(home),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            journals = [p for p in reports.glob("*/journal*") if p.stat().st_size > 0] if reports.exists() else []
            if journals:
                break
            time.sleep(0.02)
        assert journals, "the run never got going"
        child.send_signal(signal.SIGINT)  # what Ctrl-C sends
        _, err = child.communicate(timeout=120)
        assert child.returncode == 130, err
        finished = json.loads(next(reports.glob("*/manifest.json")).read_text())
        assert finished["status"] == "stopped"
        assert "Traceback" not in err
        assert "socket.send" not in err and "Exception" not in err  # the sender processes stay quiet too
        (run_dir,) = [p for p in reports.iterdir() if p.is_dir()]
        hint = [line for line in err.splitlines() if line.startswith("resume with: ")]
        assert hint, err
        command = hint[0].removeprefix("resume with: ")
        assert command == f"evalkit run --resume {run_dir.name} --reports {shlex.quote(str(reports))}"
        manifest = json.loads((run_dir / "manifest.json").read_text())
        assert manifest["status"] == "stopped"
        # The printed command, exactly as printed, finishes the run.
        args = shlex.split(command)
        assert args[0] == "evalkit"
        done = subprocess.run([sys.executable, "-m", "evalkit.cli.main", *args[1:], "--quiet"], cwd=tmp_path,
                              env=env(home), capture_output=True, check=False, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    assert json.loads((run_dir / "manifest.json").read_text())["status"] == "complete"
    assert [p.name for p in reports.iterdir() if p.is_dir()] == [run_dir.name]


def test_refused_runs_leave_no_run_folder(tmp_path):
    home, reports = tmp_path / "home", tmp_path / "reports"
    with LoopbackServer() as server:
        suite = write_suite(tmp_path, server.openai_base_url, limit=20)
        capped = ["--set", "configs.served.params.max_tokens=300"]  # a bounded call, refused by the budget
        for extra, why in (([*capped, "--max-cost", "0.000001"], "max_cost_usd"), (["--replay"], "--replay")):
            r = subprocess.run([sys.executable, "-m", "evalkit.cli.main", "run", str(suite), "--quiet",
                                "--reports", str(reports), *extra], cwd=tmp_path, env=env(home),
                               capture_output=True, check=False, text=True, timeout=300)
            assert r.returncode == 3, r.stderr
            assert why in r.stderr and "resume with" not in r.stderr and "no run folder was kept" in r.stderr
            assert not reports.exists() or not [p for p in reports.iterdir() if p.is_dir()]
        assert sum(server.hits.values()) == 0 if hasattr(server, "hits") else True


def test_a_kill_during_the_report_leaves_a_run_that_is_not_complete_and_rerunning_finishes_it(tmp_path):
    """"complete" means every artifact is written: a kill -9 once the report stage has begun leaves
    the run ``evaluating`` (no report yet), and running the same command again finishes it
    without sending a call twice."""
    home, reports = tmp_path / "home", tmp_path / "reports"
    with LoopbackServer() as server:
        suite = write_suite(tmp_path, server.openai_base_url, limit=30)
        args = [sys.executable, "-m", "evalkit.cli.main", "run", str(suite), "--reports", str(reports)]
        child = subprocess.Popen(args, cwd=tmp_path, env=env(home), stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True)  # piped: one line per stage on stderr
        seen = []
        for line in child.stderr:
            seen.append(line)
            if line.startswith("writing the report"):
                child.kill()
                break
        child.wait(timeout=60)
        assert child.returncode == -signal.SIGKILL, "".join(seen)
        (run_dir,) = [p for p in reports.iterdir() if p.is_dir()]
        manifest = json.loads((run_dir / "manifest.json").read_text())
        assert manifest["status"] == "evaluating" and not (run_dir / "report.html").exists()
        assert (run_dir / "results.parquet").is_file() and (run_dir / "scores.parquet").is_file()
        sent = sum(server.hits.values())
        assert sent == 30

        listed = subprocess.run([sys.executable, "-m", "evalkit.cli.main", "runs", "list", "--json",
                                 "--reports", str(reports)], cwd=tmp_path, env=env(home), capture_output=True,
                                text=True, timeout=120)
        assert [r["status"] for r in json.loads(listed.stdout)] == ["evaluating"], listed.stderr

        again = subprocess.run([*args, "--quiet"], cwd=tmp_path, env=env(home), capture_output=True, text=True,
                               timeout=300)
        assert again.returncode == 0, again.stderr
        assert sum(server.hits.values()) == sent  # nothing paid twice
    assert [p.name for p in reports.iterdir() if p.is_dir()] == [run_dir.name]
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["evaluated"] >= manifest["finished"]
    assert (run_dir / "report.html").stat().st_size > 0
