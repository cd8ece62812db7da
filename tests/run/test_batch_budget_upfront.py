"""--max-cost in batch mode is checked once, before any batch is created, against every call of the run:
batched calls at the batch price, calls that stay direct (a provider without a batch API) at theirs.
It counted only the batched calls, paid for their batches, then refused the direct calls (exit 3,
money spent); the direct path refuses before spending anything."""

from __future__ import annotations

from batchhelpers import cli, config, write_suite

from evalkit.testing import BatchAPIs, LoopbackServer, echo_responder


def _suite(tmp_path, server, mode: str):
    configs = (config("ant", "anthropic", "claude-haiku-4-5", server.anthropic_base_url, extra=", max_tokens: 400")
               + config("lite", "litellm", "openai/gpt-4o", server.openai_base_url, extra=", max_tokens: 400"))
    path = write_suite(tmp_path / mode, configs, name=f"budget-{mode}")
    if mode == "direct":
        path.write_text(path.read_text().replace("mode: batch", "mode: direct"))
    return path


def test_batch_mode_refuses_up_front_what_the_direct_calls_would_pass(tmp_path):
    batches = BatchAPIs(delay_s=0.01)
    args = ["--limit", "100", "--no-cache", "--max-cost", "0.5", "--reports", str(tmp_path / "reports")]
    with LoopbackServer(responder=echo_responder, extensions=[batches.install]) as server:
        direct = cli(["run", str(_suite(tmp_path, server, "direct")), *args], tmp_path / "home")
        batched = cli(["run", str(_suite(tmp_path, server, "batch")), *args], tmp_path / "home")
        assert sum(batches.created.values()) == 0  # no batch paid for
        assert sum(server.hits.values()) == 0  # and no direct call either
    assert direct.returncode != 0 and "not starting" in direct.stderr, direct.stderr
    assert batched.returncode == direct.returncode, batched.stderr
    assert "not starting" in batched.stderr and "already spent" not in batched.stderr
    assert "ant $" in batched.stderr and "lite $" in batched.stderr  # both configurations counted
    assert not list((tmp_path / "reports").glob("*/batches.jsonl"))  # nothing left behind


def test_the_up_front_estimate_prices_batched_calls_at_the_batch_price(tmp_path):
    """A budget between the batch-priced and the full-priced estimate of the batched configuration
    lets the run start: batch prices are counted as such."""
    batches = BatchAPIs(delay_s=0.01)
    with LoopbackServer(responder=echo_responder, extensions=[batches.install]) as server:
        suite = write_suite(tmp_path, config("ant", "anthropic", "claude-haiku-4-5", server.anthropic_base_url,
                                             extra=", max_tokens: 400"), name="budget-ok")
        refused = cli(["run", str(suite), "--limit", "100", "--no-cache", "--max-cost", "0.01",
                       "--reports", str(tmp_path / "r")], tmp_path / "home")
        assert refused.returncode != 0 and "estimated cost $" in refused.stderr
        estimate = float(refused.stderr.split("estimated cost $", 1)[1].split()[0])
        done = cli(["run", str(suite), "--limit", "100", "--no-cache", "--max-cost", f"{estimate * 1.05:.4f}",
                    "--reports", str(tmp_path / "r")], tmp_path / "home")
        assert done.returncode in (0, 1), done.stderr
        assert batches.created["anthropic"] == 1
