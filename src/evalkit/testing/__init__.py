"""Test doubles that exercise the real provider SDKs: a loopback OpenAI/Anthropic-
compatible server with deterministic fault injection and a tokens-per-minute limit, and
synthetic run folders (any domain-free shape) for report, gate and benchmark tests."""

from evalkit.testing._batch import BatchAPIs
from evalkit.testing._faults import FAULT_KINDS, FaultPlan
from evalkit.testing._responders import Responder, approx_tokens, default_responder, echo_responder
from evalkit.testing._server import SAMPLE_HEADER, Hit, LoopbackServer
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
    "default_responder",
    "echo_responder",
    "request_key",
    "write_synthetic_run",
]


def __getattr__(name: str):  # the synthetic-run writer needs pandas: load it only when asked for
    if name == "write_synthetic_run":
        from evalkit.testing._synthetic import write_synthetic_run

        return write_synthetic_run
    raise AttributeError(f"module 'evalkit.testing' has no attribute {name!r}")
