"""A provider option that changes what is sent (structured output as a tool, as JSON in the prompt, or
not at all; a strict schema; litellm's parameter dropping) is part of the cache key. An outside probe
found answers bought in one shape served for another: comparing the variants showed identical results."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from evalkit.testing import LoopbackServer, write_loopback_suite

REPO = Path(__file__).resolve().parents[2]


def _run(suite: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "EVALKIT_HOME": str(tmp_path / "home"), "EVALKIT_DATASETS": str(REPO / "datasets"),
           "EVALKIT_TEST_KEY": "sk-test-cache-shape-0000", "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.run([sys.executable, "-m", "evalkit.cli.main", "run", str(suite), "--fresh", "--no-gates",
                           "--quiet", "--reports", str(tmp_path / "reports"), *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.mark.parametrize("provider,model,options", [
    ("openai", "large", ("structured_output=false", "strict_schema=true")),
    ("anthropic", "large", ("structured_output=json", "structured_output=off")),
    ("litellm", "openai/large", ("structured_output=false",)),
])
def test_a_request_shaping_option_is_a_cache_miss_and_the_same_shape_a_hit(tmp_path, provider, model, options):
    with LoopbackServer() as srv:
        base = srv.base_url if provider == "anthropic" else srv.openai_base_url
        suite = write_loopback_suite(tmp_path, prompt=REPO / "suites" / "prompts" / "upgrade-v1.j2", base_url=base,
                                     provider=provider, model=model, limit=3)
        _run(suite, tmp_path)
        assert len(srv.log) == 3
        _run(suite, tmp_path)  # the same shape: answered from the cache
        assert len(srv.log) == 3
        for k, option in enumerate(options, start=2):
            _run(suite, tmp_path, "--set", f"configs.served.options.{option}")
            assert len(srv.log) == 3 * k, f"{option}: answers of another request shape were served from the cache"


def test_requests_in_the_default_shape_keep_their_cache_keys():
    """Options at their defaults leave the key as it always was: existing caches and journals still match."""
    from evalkit.providers import Message, ModelRequest, create_provider

    req = ModelRequest(provider="openai", model="m", messages=(Message(role="user", content="hi"),))
    assert req.cache_key() == "sha256:" + __import__("hashlib").sha256(
        b'{"endpoint":null,"logprobs":false,"messages":[{"content":"hi","role":"user"}],"model":"m","params":{},'
        b'"provider":"openai","response_schema":null,"sample_index":0,"template_version":null}').hexdigest()
    assert create_provider("openai", structured_output=True).request_shape == {}
    assert create_provider("anthropic", structured_output=True).request_shape == {}  # True is the tool default
    assert create_provider("anthropic", structured_output="json").request_shape == {"structured_output": "json"}
    shaped = req.model_copy(update={"request_shape": {"strict_schema": True}})
    assert shaped.cache_key() != req.cache_key()


def test_the_judges_request_shape_is_part_of_its_cache_key(tmp_path):
    """The judge's calls carried no request shape: its anthropic max_tokens (sent when params set none) hit
    the verdicts bought with the old cap."""
    with LoopbackServer() as srv:
        suite = write_loopback_suite(tmp_path, prompt=REPO / "suites" / "prompts" / "upgrade-v1.j2",
                                     base_url=srv.openai_base_url, limit=3)
        suite.write_text(suite.read_text() + "scoring:\n  judge:\n    provider: anthropic\n    model: large\n"
                         f'    options: {{base_url: "{srv.base_url}", api_key_env: EVALKIT_TEST_KEY}}\n')
        _run(suite, tmp_path)
        first = len(srv.log)
        _run(suite, tmp_path)
        assert len(srv.log) == first  # configurations and judge answered from the cache
        _run(suite, tmp_path, "--set", "scoring.judge.options.max_tokens=9")
        judged = [h for h in srv.log[first:]]
        assert judged and all(h.route == "anthropic" for h in judged), [h.route for h in judged]


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
def test_a_base_url_from_the_environment_is_part_of_the_cache_key(tmp_path, monkeypatch, transport):
    """Without base_url the SDK sends to OPENAI_BASE_URL; the key said endpoint None whatever it held, so a
    second server was never asked. The aiohttp transport ignored the variable (it went to api.openai.com)."""
    with LoopbackServer() as one, LoopbackServer() as two:
        suite = write_loopback_suite(tmp_path, prompt=REPO / "suites" / "prompts" / "upgrade-v1.j2",
                                     base_url=one.openai_base_url, limit=3,
                                     options=f", http_client: {transport}" if transport == "aiohttp" else "")
        suite.write_text(suite.read_text().replace(f'base_url: "{one.openai_base_url}", ', ""))
        assert "base_url" not in suite.read_text()
        monkeypatch.setenv("OPENAI_BASE_URL", one.openai_base_url)
        _run(suite, tmp_path)
        assert len(one.log) == 3
        monkeypatch.setenv("OPENAI_BASE_URL", two.openai_base_url)
        _run(suite, tmp_path)
        assert len(two.log) == 3 and len(one.log) == 3
