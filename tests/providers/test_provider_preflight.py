"""Through ``evalkit run`` with the real SDKs against the loopback server: a configuration that must send
without its key variable, or with a wrong provider option, exits 2 before anything is sent, naming the
variable or the option and the configuration, and leaves no run folder; answers the cache already holds
(``--replay`` or not) still need no key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from evalkit.testing import LoopbackServer, write_loopback_suite

REPO = Path(__file__).resolve().parents[2]
VAR = "EVALKIT_PREFLIGHT_KEY"


def write_suite(tmp: Path, url: str, *, provider: str = "openai", model: str = "large", options: str = "") -> Path:
    return write_loopback_suite(tmp, prompt=REPO / "suites" / "prompts" / "upgrade-v1.j2", base_url=url,
                                name="preflight", provider=provider, model=model, key_env=VAR, options=options)


def evalkit(args: list[str], cwd: Path, home: Path, key: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != VAR}
    env.update(EVALKIT_HOME=str(home), EVALKIT_DATASETS=str(REPO / "datasets"), PYTHONPATH=str(REPO / "src"))
    if key is not None:
        env[VAR] = key
    return subprocess.run([sys.executable, "-m", "evalkit.cli.main", *args], check=False, cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=240)


@pytest.mark.parametrize("provider,model,route", [("openai", "large", "openai"),
                                                  ("anthropic", "large", "anthropic"),
                                                  ("litellm", "openai/large", "openai")])
def test_missing_key_exits_2_before_sending_but_cached_answers_need_none(tmp_path, provider, model, route):
    home, reports = tmp_path / "home", tmp_path / "reports"
    with LoopbackServer() as srv:
        url = srv.openai_base_url if route == "openai" else srv.base_url
        suite = write_suite(tmp_path, url, provider=provider, model=model)
        run = ["run", str(suite), "--quiet", "--fresh", "--reports", str(reports)]
        refused = evalkit([*run, "--no-cache"], tmp_path, home, key=None)
        assert refused.returncode == 2, refused.stderr
        assert VAR in refused.stderr and "configs[served]" in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr
        assert not srv.log  # nothing was sent (it sent 'not-needed' and got 401s)
        assert not reports.exists() or not any(reports.iterdir())
        paid = evalkit(run, tmp_path, home, key="sk-test-preflight-0000")  # fills the response cache
        assert paid.returncode == 0, paid.stderr
        sent = len(srv.log)
        for extra in (["--replay"], []):  # every answer is cached: no key needed, nothing sent
            cached = evalkit([*run, *extra], tmp_path, home, key=None)
            assert cached.returncode == 0, (extra, cached.stderr)
        assert len(srv.log) == sent


@pytest.mark.parametrize("provider,model,route", [("openai", "large", "openai"),
                                                  ("litellm", "openai/large", "openai"),
                                                  ("anthropic", "large", "anthropic")])
@pytest.mark.parametrize("setting,needle", [("timeout_s=abc", "option timeout_s='abc'"),
                                            ("timeout_s=-1", "option timeout_s=-1"),
                                            ("base_url=htp:/nonsense", "option base_url='htp:/nonsense'")])
def test_bad_option_exits_2_before_any_call(tmp_path, provider, model, route, setting, needle):
    home, reports = tmp_path / "home", tmp_path / "reports"
    with LoopbackServer() as srv:
        suite = write_suite(tmp_path, srv.openai_base_url if route == "openai" else srv.base_url,
                            provider=provider, model=model)
        proc = evalkit(["run", str(suite), "--quiet", "--no-cache", "--reports", str(reports),
                        "--set", f"configs.served.options.{setting}"], tmp_path, home, key="sk-test-preflight-0000")
        assert proc.returncode == 2, proc.stderr
        assert needle in proc.stderr and "configs[served]" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr and "TypeError" not in proc.stderr
        assert not srv.log
        assert not reports.exists() or not any(reports.iterdir())


def test_a_judge_without_its_key_stops_the_run_before_any_call(tmp_path):
    """The LLM judge's calls come after every configuration's: its unset key (or a bad option) found
    then let the whole run be paid for first. It is checked with the configurations'."""
    env = {k: v for k, v in os.environ.items() if k != "EVALKIT_JUDGE_KEY_UNSET"}
    env["EVALKIT_HOME"] = str(tmp_path / "home")
    reports = tmp_path / "reports"
    base = [sys.executable, "-m", "evalkit.cli.main", "run", str(REPO / "suites" / "upgrades-demo.yaml"), "--config",
            "rules", "--limit", "20", "--reports", str(reports), "--quiet", "--datasets", str(REPO / "datasets"),
            "--set", "scoring.judge.provider=openai", "--set", "scoring.judge.model=gpt-4o-mini"]
    done = subprocess.run([*base, "--set", "scoring.judge.options.api_key_env=EVALKIT_JUDGE_KEY_UNSET"], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 2, done.stderr
    assert "scoring.judge" in done.stderr and "EVALKIT_JUDGE_KEY_UNSET is not set" in done.stderr
    assert not reports.exists()  # nothing ran
    done = subprocess.run([*base, "--set", "scoring.judge.options.timeout_s=-1"], env={**env, "OPENAI_API_KEY": "x"},
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 2 and "scoring.judge" in done.stderr and "timeout_s" in done.stderr, done.stderr
    assert not reports.exists()


def test_an_evalkit_home_that_is_a_file_is_a_path_problem_not_a_corrupt_cache_entry(tmp_path):
    """EVALKIT_HOME naming a file said 'corrupt response-cache entry ... Delete the file'."""
    home = tmp_path / "a-file"
    home.write_text("")
    with LoopbackServer() as srv:
        suite = write_suite(tmp_path, srv.openai_base_url)
        done = evalkit(["run", str(suite), "--quiet", "--fresh", "--reports", str(tmp_path / "r")], tmp_path, home,
                       key="sk-test-preflight-0000")
    assert done.returncode == 2, done.stderr
    assert "cannot use" in done.stderr and "Not a directory" in done.stderr and "corrupt" not in done.stderr
