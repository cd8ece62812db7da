"""Test doubles that exercise the real provider SDKs: a loopback OpenAI/Anthropic-
compatible server with deterministic fault injection and a tokens-per-minute limit."""

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
]
