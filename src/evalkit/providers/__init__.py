"""Model providers behind one small interface.

Built-in: ``sim`` (simulated LLM, offline), ``rules`` (the written policy as code),
``openai``, ``anthropic``, ``litellm``. Third parties add providers through the
``evalkit.providers`` entry-point group or ``register_provider``.
"""

from evalkit.providers._base import (
    Message,
    ModelRequest,
    ModelResponse,
    Provider,
    TokenLogprob,
    Usage,
    estimate_input_tokens,
    output_cap,
)
from evalkit.providers._batch import BatchAPI, BatchLineResult, BatchState, batch_api_for, transient_wait
from evalkit.providers._errors import ProviderError
from evalkit.providers._registry import (
    create_provider,
    provider_class,
    provider_names,
    redact,
    register_provider,
)
from evalkit.providers._sim import sim_respond

__all__ = [
    "BatchAPI",
    "BatchLineResult",
    "BatchState",
    "Message",
    "ModelRequest",
    "ModelResponse",
    "Provider",
    "ProviderError",
    "TokenLogprob",
    "Usage",
    "batch_api_for",
    "create_provider",
    "estimate_input_tokens",
    "output_cap",
    "provider_class",
    "provider_names",
    "redact",
    "register_provider",
    "sim_respond",
    "transient_wait",
]
