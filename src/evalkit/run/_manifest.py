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


def copy_inputs(run_dir: Path, loaded: Any, templates: dict[str, Any]) -> None:
    prompts = run_dir / "prompts"
    prompts.mkdir(parents=True, exist_ok=True)
    raw = json.loads(json.dumps(loaded.raw, default=str))
    for config in raw.get("configs", []):
        if config.get("name") in templates:
            _io.write_text(prompts / f"{config['name']}.j2", templates[config["name"]].source)
            config["prompt"] = f"prompts/{config['name']}.j2"
        elif config.get("prompt") and loaded.prompt_path(config["prompt"]).is_file():  # not run: resumable still
            _io.write_text(prompts / f"{config['name']}.j2", loaded.prompt_path(config["prompt"]).read_text())
            config["prompt"] = f"prompts/{config['name']}.j2"
    if loaded.catalogue_path is not None:  # the run keeps the catalogue it used (resume, report re-render)
        _io.write_bytes(run_dir / "catalogue.yaml", loaded.catalogue_path.read_bytes())
        raw["catalogue"] = "catalogue.yaml"
    import yaml

    _io.write_text(run_dir / "suite.yaml", yaml.safe_dump(raw, sort_keys=False))


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
