"""A canary API key never reaches a file, EVALKIT_HOME, stdout or stderr.

Through the real openai, anthropic and litellm SDKs against the loopback server:
the server echoes the key it was sent in 401 error bodies (fault ``echo_key``), and the
key is also tried in ``base_url`` (userinfo, ``?api-key=``), in headers and with
``--set``, where the suite is refused (exit 2) naming the environment-variable way.
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from evalkit.testing import LoopbackServer
from evalkit.testing._faults import FaultPlan

REPO = Path(__file__).resolve().parents[1]
KEY_ENV = "LOOPBACK_CRED"  # not a well-known name: found through the suite's api_key_env
ROUTES = {  # provider, model, which server address the SDK talks to, more provider options
    "openai": ("openai", "small", "openai", ""),
    "openai-aiohttp": ("openai", "small", "openai", ", http_client: aiohttp"),  # the SDK's auth, our transport
    "anthropic": ("anthropic", "small", "anthropic", ""),
    "litellm": ("litellm", "openai/small", "openai", ""),
}


def canary(shape: str) -> str:
    tag = uuid.uuid4().hex[:12]
    return f"sk-test-CANARY-{tag}" if shape == "sk" else f"plainCANARY{tag}"  # plain: only its env name gives it away


def base_url_of(server: LoopbackServer, route: str) -> str:
    return server.openai_base_url if ROUTES[route][2] == "openai" else server.anthropic_base_url


def write_suite(tmp: Path, route: str, base_url: str, *, extra: str = "") -> Path:
    provider, model, _, more = ROUTES[route]
    (tmp / "prompts").mkdir(exist_ok=True)
    shutil.copy(REPO / "suites" / "prompts" / "upgrade-v1.j2", tmp / "prompts" / "upgrade-v1.j2")
    suite = tmp / "suite.yaml"
    suite.write_text(f"""
name: canary
dataset: upgrades@v1
seed: 5
sample: {{limit: 8, seed: 1}}
execution: {{concurrency: 4, max_attempts: 2, timeout_s: 20, max_error_share: 1.0}}
configs:
  - name: c
    provider: {provider}
    model: {model}
    prompt: prompts/upgrade-v1.j2
    params: {{temperature: 0, max_tokens: 300}}
    price: {{input: 2.5, output: 10.0}}
    options: {{base_url: "{base_url}", api_key_env: {KEY_ENV}{more}}}
{extra}""", encoding="utf-8")
    return suite


GATES = """gates:
  - kind: min_good_rate
    min: 0.01
"""


def evalkit(args: list[str], tmp: Path, key: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "EVALKIT_HOME": str(tmp / "home"), "EVALKIT_DATASETS": str(REPO / "datasets"),
           KEY_ENV: key, "PYTHONPATH": os.pathsep.join(sys.path),
           # a CI job's step files (outside the run folder) are written too: scanned like every other file
           "GITHUB_OUTPUT": str(tmp / "github" / "output"), "GITHUB_STEP_SUMMARY": str(tmp / "github" / "summary.md")}
    (tmp / "github").mkdir(exist_ok=True)
    env.pop("EVALKIT_SECRET_ENV", None)
    return subprocess.run([sys.executable, "-m", "evalkit.cli.main", *args], cwd=tmp, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def _content(path: Path) -> bytes:
    """A file's bytes, decompressed when it is gzip (a finished run's journal.jsonl.gz)."""
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def assert_nowhere(key: str, tmp: Path, proc: subprocess.CompletedProcess) -> int:
    """The canary is in no file under ``tmp`` (reports, EVALKIT_HOME, logs) nor in the output."""
    needle = key.encode()
    files = [p for p in tmp.rglob("*") if p.is_file() and p != tmp / "suite.yaml"]  # the suite is the user's
    leaked = [str(p) for p in files if needle in _content(p)]
    assert not leaked, f"canary written to {leaked}"
    assert key not in proc.stdout and key not in proc.stderr, "canary printed"
    return len(files)


@pytest.mark.parametrize(("route", "shape"), [(r, "sk") for r in ROUTES] + [("openai", "plain")])
def test_key_echoed_in_provider_errors_is_never_written(tmp_path, route, shape):
    key = canary(shape)
    with LoopbackServer(faults=FaultPlan(rate=0.35, kinds=("echo_key",), seed=3)) as server:
        suite = write_suite(tmp_path, route, base_url_of(server, route), extra=GATES)
        proc = evalkit(["run", str(suite), "--reports", str(tmp_path / "reports")], tmp_path, key)
        echoed = [h for h in server.log if h.fault == "echo_key"]
    assert echoed, "the server never echoed the key: the test would prove nothing"
    assert proc.returncode in (0, 1, 3), proc.stderr
    assert "Traceback" not in proc.stderr
    run_dirs = [p for p in (tmp_path / "reports").iterdir() if p.is_dir()]
    journals = list(run_dirs[0].glob("journal.jsonl*")) if run_dirs else []
    assert journals, "no journal written"
    journal = _content(journals[0]).decode()
    assert "Incorrect API key provided: ***" in journal or "Incorrect API key provided: sk-***" in journal
    written = assert_nowhere(key, tmp_path, proc)
    assert written >= 5  # journal, manifest, suite copy, prompt copy, cache entries...
    if proc.returncode in (0, 1):  # a finished run was gated: the CI step files were written (and scanned)
        assert (tmp_path / "github" / "output").read_text() and (tmp_path / "github" / "summary.md").read_text()
        assert (run_dirs[0] / "junit.xml").is_file() and (run_dirs[0] / "summary.md").is_file()


PLACEMENTS = {  # placement -> (base_url, --set arguments) for a server url and a key
    "base_url userinfo": lambda url, key: (url.replace("http://", f"http://user:{key}@"), []),
    "base_url ?api-key=": lambda url, key: (f"{url}?api-key={key}", []),
    "header in suite": lambda url, key: (url, []),  # an Authorization header written into the suite
    "--set params.extra_headers": lambda url, key: (
        url, ["--set", f"configs.c.params.extra_headers.x-api-key={key}"],),
    "--set options.base_url": lambda url, key: (url, ["--set", f"configs.c.options.base_url={url}?key={key}"],),
    "--set bare value": lambda url, key: (url, ["--set", f"configs.c.description={key}"],),
}


@pytest.mark.parametrize("placement", list(PLACEMENTS))
@pytest.mark.parametrize("route", list(ROUTES))
def test_key_in_base_url_headers_or_set_is_refused(tmp_path, route, placement):
    key = canary("sk")
    with LoopbackServer() as server:
        url = base_url_of(server, route)
        base_url, sets = PLACEMENTS[placement](url, key)
        suite = write_suite(tmp_path, route, base_url)
        if placement == "header in suite":
            suite.write_text(suite.read_text().replace(
                "params: {temperature: 0, max_tokens: 300}",
                f"params: {{temperature: 0, max_tokens: 300, extra_headers: {{Authorization: 'Bearer {key}'}}}}"))
        proc = evalkit(["run", str(suite), *sets, "--reports", str(tmp_path / "reports")], tmp_path, key)
        assert not server.log, "nothing may be sent before the suite is accepted"
    assert proc.returncode == 2, proc.stderr
    assert "api_key_env" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: --set") == bool(sets)
    if not sets:
        assert str(suite) in proc.stderr  # names the file...
        assert "configs[0]" in proc.stderr  # ...and where in it
    assert not (tmp_path / "reports").exists()
    assert_nowhere(key, tmp_path, proc)


@pytest.mark.parametrize("route", ["openai", "anthropic"])
def test_key_echoed_by_a_batch_api_is_never_written(tmp_path, route):
    """Batch mode: the provider quotes the key when it refuses a batch and in errored lines; the
    batch ledger (batches.jsonl), the journal and every other file stay clean."""
    from evalkit.testing import BatchAPIs

    key = canary("sk")
    # 4 refusals: a batch creation is tried 4 times, then its calls go direct (the refusal is recorded)
    batches = BatchAPIs(delay_s=0.01, fail_rate=0.4, refuse_creates=4, echo_key=True, seed=2)
    with LoopbackServer(extensions=[batches.install]) as server:
        suite = write_suite(tmp_path, route, base_url_of(server, route), extra=GATES)
        suite.write_text(suite.read_text().replace(
            "execution: {", "execution: {mode: batch, batch_poll_s: 0.01, batch_max_requests: 3, "))
        proc = evalkit(["run", str(suite), "--reports", str(tmp_path / "reports")], tmp_path, key)
    api = "openai" if route == "openai" else "anthropic"
    assert batches.refused[api] == 4 and batches.created[api] >= 1, proc.stderr  # the key was echoed both ways
    assert proc.returncode in (0, 1, 3), proc.stderr
    assert "Traceback" not in proc.stderr
    (run_dir,) = [p for p in (tmp_path / "reports").iterdir() if p.is_dir()]
    ledger = run_dir / "batches.jsonl"
    assert ledger.is_file() and ledger.stat().st_size > 0, sorted(p.name for p in run_dir.iterdir())
    quoted = [p.name for p in run_dir.rglob("*") if p.is_file() and b"request made with API key" in _content(p)]
    assert quoted, "no echoed message reached the run folder: the test would prove nothing"
    assert assert_nowhere(key, tmp_path, proc) >= 5
