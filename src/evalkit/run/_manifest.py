"""A new run's manifest and its copy of the inputs (suite.yaml, prompts/): what makes a run
folder self-contained and resumable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evalkit import _io
from evalkit.pricing import ModelPrice
from evalkit.run._store import utc_now


def portable_path(path: Path) -> str:
    """A path as recorded in a run folder: relative to the working directory (the project root) when
    inside it, so a run or a committed baseline never carries the machine's absolute paths."""
    import os

    absolute = Path(path).resolve()
    try:
        return absolute.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return os.path.relpath(absolute) if not Path(path).is_absolute() else str(path)


def input_copies(loaded: Any, templates: dict[str, Any]) -> dict[str, tuple[bytes, str]]:
    """What a new run keeps of its inputs (resume and the report's re-rendered prompts read them back):
    run-folder path -> (bytes, the file they come from)."""
    import yaml

    out: dict[str, tuple[bytes, str]] = {}
    raw = json.loads(json.dumps(loaded.raw, default=str))
    for config in raw.get("configs", []):
        name, prompt = config.get("name"), config.get("prompt")
        if name in templates:
            out[f"prompts/{name}.j2"] = (templates[name].source.encode("utf-8"), str(loaded.prompt_path(prompt)))
        elif prompt and loaded.prompt_path(prompt).is_file():  # not run: resumable still
            out[f"prompts/{name}.j2"] = (loaded.prompt_path(prompt).read_bytes(), str(loaded.prompt_path(prompt)))
        else:
            continue
        config["prompt"] = f"prompts/{name}.j2"
    if loaded.catalogue_path is not None:  # the run keeps the catalogue it used (resume, report re-render)
        out["catalogue.yaml"] = (loaded.catalogue_path.read_bytes(), str(loaded.catalogue_path))
        raw["catalogue"] = "catalogue.yaml"
    out["suite.yaml"] = (yaml.safe_dump(raw, sort_keys=False).encode("utf-8"), str(loaded.path))
    return out


def check_input_copies(loaded: Any, templates: dict[str, Any]) -> None:
    """ConfigError, before a run folder is made, when an input the run must keep byte for byte holds what
    the redaction layer would remove (the copy would not read back as the input: resume would fail)."""
    from evalkit.errors import ConfigError

    for data, source in input_copies(loaded, templates).values():
        if (problem := _io.credential_in_copy(data, source=source)) is not None:
            raise ConfigError(problem)


def copy_inputs(run_dir: Path, loaded: Any, templates: dict[str, Any]) -> None:
    """The run's copies of its inputs, byte for byte (``input_copies``)."""
    (run_dir / "prompts").mkdir(parents=True, exist_ok=True)
    for name, (data, source) in input_copies(loaded, templates).items():
        _io.write_verbatim(run_dir / name, data, source=source)


def _price_json(p: ModelPrice | None) -> dict[str, Any] | None:
    return None if p is None else {"input": p.input, "output": p.output, "cache_read": p.cache_read,
                                   "cache_write": p.cache_write, "source": p.source, "model": p.model}


def initial_manifest(run_id: str, loaded: Any, plan: Any, req: Any, fingerprint: str) -> dict[str, Any]:
    """The manifest of a new run (status running) from the loaded suite and its plan (run/_setup)."""
    from importlib.metadata import version

    from evalkit.providers import redact

    dataset = plan.dataset
    return {
        "schema": 1, "run_id": run_id, "created": utc_now(), "status": "running",
        "evalkit_version": version("evalkit"), "seed": loaded.suite.seed, "fingerprint": fingerprint,
        "suite": {"name": loaded.suite.name, "path": portable_path(loaded.path), "sha256": loaded.sha256,
                  "spec": loaded.suite.model_dump(mode="json")},
        "dataset": {"ref": dataset.ref, "name": dataset.manifest.name, "version": dataset.manifest.version,
                    "sha256": dataset.manifest.sha256, "rows": dataset.manifest.row_count,
                    "sampled_rows": plan.case_count},
        "request": {"configs": list(req.configs or ()), "limit": req.limit, "fraction": req.fraction,
                    "sample_seed": req.sample_seed, "overrides": {k: str(v) for k, v in req.overrides.items()},
                    "shard": list(req.shard) if req.shard else None},
        "tokenizer": plan.tokenizer, "baseline": req.baseline,
        "configs": [{
            "name": c.name, "provider": c.provider, "model": c.model, "params": c.params, "prompt": c.prompt,
            "prompt_version": plan.templates[c.name].version, "context": c.context.model_dump(),
            "confidence": c.confidence, "samples": c.samples,
            "simulated": bool(getattr(plan.providers[c.name], "simulated", False)),
            "price": _price_json(plan.prices[c.name]), "options": redact(c.options), "description": c.description,
        } for c in plan.configs],
    }
