"""A one-configuration suite that sends a dataset's cases to a loopback server (tests and benches of
the real-model path write the same shape; each names what it varies)."""

from __future__ import annotations

import shutil
from pathlib import Path


def write_loopback_suite(folder: Path, *, prompt: Path, base_url: str, name: str = "loopback",
                         provider: str = "openai", model: str = "large", key_env: str = "EVALKIT_TEST_KEY",
                         limit: int = 6, concurrency: int = 4, execution: str = "", options: str = "") -> Path:
    """``folder/suite.yaml`` (with ``prompt`` copied beside it) for configuration ``served`` of ``provider``
    at ``base_url`` on ``limit`` cases of upgrades@v1; ``execution``/``options``: more YAML flow-mapping
    entries (each starting with ", ")."""
    (folder / "prompts").mkdir(parents=True, exist_ok=True)
    shutil.copy(prompt, folder / "prompts" / prompt.name)
    suite = folder / "suite.yaml"
    suite.write_text(f"""
name: {name}
dataset: upgrades@v1
seed: 3
sample: {{limit: {limit}, seed: 1}}
execution: {{concurrency: {concurrency}, max_attempts: 3, timeout_s: 10{execution}}}
configs:
  - name: served
    provider: {provider}
    model: {model}
    prompt: prompts/{prompt.name}
    params: {{temperature: 0, max_tokens: 300}}
    price: {{input: 2.5, output: 10.0}}
    options: {{base_url: "{base_url}", api_key_env: {key_env}{options}}}
""")
    return suite
