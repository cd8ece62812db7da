"""Re-rendering a case's prompt exactly as a stored run rendered it (for drill-downs).

Everything comes from the run folder: the suite copy (``suite.yaml``), the template
copies (``prompts/``), and the dataset version the manifest names (hash-checked).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from evalkit.errors import NotFound


@lru_cache(maxsize=4)  # a report re-renders hundreds of cases from one run: load the run's inputs once
def _run_inputs(run_dir: str) -> tuple[Any, Any, Any, frozenset[str], Any]:
    from evalkit.dataset import load_dataset
    from evalkit.run._store import read_manifest
    from evalkit.suite import load_suite
    from evalkit.tasks import get_task

    path = Path(run_dir)
    manifest = read_manifest(path)
    loaded = load_suite(path / "suite.yaml")
    task = get_task(loaded.suite.task)
    ref = manifest["dataset"]["ref"]
    try:
        dataset = load_dataset(ref, task=task, catalogue=loaded.catalogue_path)
    except NotFound:
        original = Path(manifest["suite"]["path"]).parent  # a suite-relative dataset path
        dataset = load_dataset(original / loaded.suite.dataset, task=task, catalogue=loaded.catalogue_path)
    task = dataset.bound_task  # the catalogue the run used
    if dataset.manifest.sha256 != manifest["dataset"]["sha256"]:
        raise NotFound(f"{run_dir}: dataset {ref} is not the version this run used (sha256 "
                       f"{dataset.manifest.sha256[:12]}... vs {manifest['dataset']['sha256'][:12]}...)")
    from evalkit.run._plan import context_resources

    resources = context_resources(task, dataset, loaded.suite.configs)
    return loaded, task, dataset, frozenset(c.case_id for c in dataset.index), resources


@lru_cache(maxsize=16)  # the run folder's template copies never change; compiling one costs milliseconds
def _template(path: str) -> Any:
    from evalkit.suite import load_template

    return load_template(Path(path))


def render_case_prompt(run_dir: Path | str, config: str, case_id: str) -> list[dict[str, str]]:
    """The chat messages the run sent for ``case_id`` under ``config``."""
    from evalkit.run._plan import render_case_prompt as render

    loaded, task, dataset, case_ids, resources = _run_inputs(str(Path(run_dir).resolve()))
    try:
        spec = loaded.suite.config(config)
    except KeyError:
        raise NotFound(f"{run_dir}: no configuration {config!r}") from None
    if case_id not in case_ids:
        raise NotFound(f"{run_dir}: case {case_id!r} is not in the run's dataset")
    (case,) = dataset.select([case_id])  # parse only the cases a report drills into
    return render(_template(str(loaded.prompt_path(spec.prompt))), spec, case, task, resources)
