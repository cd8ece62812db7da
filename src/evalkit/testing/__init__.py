"""Test doubles that exercise the real provider SDKs: a loopback OpenAI/Anthropic-
compatible server with deterministic fault injection and a tokens-per-minute limit, and
synthetic run folders (any domain-free shape) for report, gate and benchmark tests, and the
processes and memory of a process tree (/proc)."""

from evalkit.testing._batch import BatchAPIs
from evalkit.testing._faults import FAULT_KINDS, FaultPlan
from evalkit.testing._procs import child_pids, process_tree, pss_kb, tree_pss_kb
from evalkit.testing._responders import Responder, approx_tokens, default_responder, echo_responder
from evalkit.testing._server import SAMPLE_HEADER, Hit, LoopbackServer
from evalkit.testing._suites import write_loopback_suite
from evalkit.testing._wire import request_key

__all__ = [
    "FAULT_KINDS",
    "SAMPLE_HEADER",
    "BatchAPIs",
    "FaultPlan",
    "Hit",
    "LoopbackServer",
    "Responder",
    "approx_tokens",
    "child_pids",
    "default_responder",
    "echo_responder",
    "process_tree",
    "pss_kb",
    "request_key",
    "tree_pss_kb",
    "write_loopback_suite",
    "write_synthetic_run",
]


def __getattr__(name: str):  # the synthetic-run writer needs pandas: load it only when asked for
    if name == "write_synthetic_run":
        from evalkit.testing._synthetic import write_synthetic_run

        return write_synthetic_run
    raise AttributeError(f"module 'evalkit.testing' has no attribute {name!r}")
