"""CLI: ``evalkit dataset list | show | validate | import | diff | generate``.

Only typer and the standard library at module level; the dataset library (pyarrow,
pandas, pydantic) is imported inside each command so ``evalkit --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from evalkit.cli._common import add_group, cli_errors

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of tables.")]
StoreOpt = Annotated[
    Path | None,
    typer.Option("--store", help="Dataset store folder [default: $EVALKIT_DATASETS or ./datasets]."),
]


def _console():
    from rich.console import Console

    return Console(highlight=False)


def _share(count: int, total: int) -> str:
    return f"{100 * count / total:.1f}%" if total else "-"


def _list_json(entries, verify: bool) -> list[str]:
    from evalkit.cli._conventions import echo_json
    from evalkit.dataset import load_dataset
    from evalkit.errors import EvalkitError

    failures: list[str] = []
    docs = []
    for entry in entries:
        doc = {"ref": f"{entry.name}@{entry.version}", "path": str(entry.path), "error": entry.error,
               "manifest": entry.manifest.model_dump(mode="json") if entry.manifest else None}
        if entry.manifest is None:
            failures.append(entry.error or "unreadable manifest")
        if verify and entry.manifest is not None:
            try:
                load_dataset(entry.path)
                doc["hash_ok"] = True
            except EvalkitError as exc:
                failures.append(str(exc))
                doc["hash_ok"], doc["error"] = False, str(exc)
        docs.append(doc)
    echo_json(docs)
    return failures


def list_cmd(store: StoreOpt = None,
             verify: Annotated[bool, typer.Option("--verify", help="Also check every content hash.")] = False,
             json_: JsonOpt = False) -> None:
    """List every dataset version in the store: rows, task, hash prefix, parent."""
    with cli_errors():
        from rich.table import Table

        from evalkit.dataset import list_versions, load_dataset, store_root
        from evalkit.errors import DataError, EvalkitError

        entries = list_versions(store)
        if json_:
            if failures := _list_json(entries, verify):
                raise DataError(f"{len(failures)} dataset version(s) failed their checks", problems=failures)
            return
        console = _console()
        if not entries:
            console.print(f"no datasets in {store_root(store)}")
            return
        table = Table(title=f"datasets in {store_root(store)}")
        # Identity columns never shrink (a truncated ref or hash is useless); only the description does.
        def widest(header: str, values: list[str]) -> int:
            return max([len(header), *map(len, values)])

        manifests = [e.manifest for e in entries if e.manifest is not None]
        fixed = [("dataset", [f"{e.name}@{e.version}" for e in entries]),
                 ("rows", [f"{m.row_count:,}" for m in manifests]), ("task", [m.task for m in manifests]),
                 ("sha256", ["0" * 12]), ("parent", [m.parent or "" for m in manifests]), ("created", ["0" * 10])]
        if verify:
            fixed.append(("hash", ["FAILED"]))
        widths = [widest(header, values) for header, values in fixed]
        for (header, _), width in zip(fixed, widths):
            table.add_column(header, justify="right" if header == "rows" else "left", no_wrap=True, min_width=width)
        # rich crops rather than shrinks no-wrap columns, so fit the description to what is left by
        # hand, and leave it out on a terminal too narrow for it (`show` prints it in full).
        budget = console.width - sum(widths) - 3 * (len(widths) + 1) - 1
        if budget >= 12:
            table.add_column("description", no_wrap=True)

        def clip(text: str) -> list[str]:
            if budget < 12:
                return []
            return [text if len(text) <= budget else text[: budget - 1] + "…"]
        failures: list[str] = []
        for entry in entries:
            m = entry.manifest
            if m is None:
                failures.append(entry.error or "unreadable manifest")
                cells = [f"{entry.name}@{entry.version}", "?", "?", "?", "", "", *(["[red]FAILED[/red]"] * verify),
                         *clip("unreadable manifest")]
                table.add_row(*cells)
                continue
            check = []
            if verify:
                try:
                    load_dataset(entry.path)
                    check = ["[green]ok[/green]"]
                except EvalkitError as exc:
                    failures.append(str(exc))
                    check = ["[red]FAILED[/red]"]
            table.add_row(m.ref, f"{m.row_count:,}", m.task, m.sha256[:12], m.parent or "", f"{m.created:%Y-%m-%d}",
                          *check, *clip(m.description))
        console.print(table)
        if failures:
            raise DataError(f"{len(failures)} dataset version(s) failed their checks", problems=failures)


def show_cmd(ref: Annotated[str, typer.Argument(help="NAME@VERSION, NAME@latest or a version folder.")],
             store: StoreOpt = None,
             variants: Annotated[bool, typer.Option("--variants", help="Also count cases per variant.")] = False,
             json_: JsonOpt = False) -> None:
    """Show a version's manifest facts and its cases per segment (hash-checked)."""
    with cli_errors():
        from rich.table import Table

        from evalkit.dataset import load_dataset

        ds = load_dataset(ref, store=store)
        m = ds.manifest
        if json_:
            from evalkit.cli._conventions import echo_json

            echo_json({"ref": m.ref, "path": str(ds.path), "hash_ok": True, "manifest": m.model_dump(mode="json")})
            return
        console = _console()
        console.print(f"[bold]{m.ref}[/bold]  ({ds.path})")
        facts = [("task", m.task), ("rows", f"{m.row_count:,}"), ("sha256", m.sha256), ("parent", m.parent or "-"),
                 ("created", m.created.isoformat().replace("+00:00", "Z")), ("evalkit", m.evalkit_version),
                 ("generator", ", ".join(f"{k}={v}" for k, v in m.generator.items()) if m.generator else "-"),
                 ("description", m.description or "-")]
        for key, value in facts:
            console.print(f"  {key:<12} {value}")
        counts = ds.arrow.column("segment").value_counts().to_pylist()
        _count_table(console, Table, "segment", {c["values"]: c["counts"] for c in counts}, m.row_count)
        if variants:
            counts = ds.arrow.column("variant").value_counts().to_pylist()
            _count_table(console, Table, "variant", {c["values"]: c["counts"] for c in counts}, m.row_count)


def _count_table(console, table_cls, label: str, counts: dict[str, int], total: int) -> None:
    table = table_cls(title=f"cases per {label}")
    table.add_column(label)
    table.add_column("cases", justify="right")
    table.add_column("share", justify="right")
    for key, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        table.add_row(key, f"{count:,}", _share(count, total))
    table.add_row("[bold]total[/bold]", f"[bold]{total:,}[/bold]", "100.0%" if total else "-")
    console.print(table)


def validate_cmd(path: Annotated[str, typer.Argument(help="Version folder (or NAME@VERSION).")],
                 task: Annotated[str | None, typer.Option("--task", help="Task to validate with "
                                                             "[default: the task in the manifest].")] = None,
                 store: StoreOpt = None) -> None:
    """Check a version completely: content hash, every row against the case model, manifest counts."""
    with cli_errors():
        from evalkit.dataset import validate_path

        ds = validate_path(path, task, store=store)
        typer.echo(f"ok: {ds.path}: {ds.manifest.row_count:,} {ds.manifest.task} cases valid, "
                   f"sha256 {ds.manifest.sha256[:12]}… matches")


def import_cmd(file: Annotated[Path, typer.Argument(help="A .jsonl or .csv file of cases (or your own export "
                                                        "with --mapping).")],
               name: Annotated[str, typer.Option("--name", help="Dataset name.")],
               version: Annotated[str, typer.Option("--version", help="New version label, e.g. v2.")],
               task: Annotated[str | None, typer.Option(
                   "--task", help="Task whose case model the rows follow [default: the mapping's task, "
                                  "else upgrades].")] = None,
               mapping: Annotated[Path | None, typer.Option(
                   "--mapping", help="YAML column mapping from your export's columns and formats to the case "
                                     "model (see docs/datasets.md).")] = None,
               catalogue: Annotated[Path | None, typer.Option(
                   "--catalogue", help="Your plan catalogue and policy YAML (see docs/catalogue.md): rows are "
                                       "checked against it and the version ships it [default: the mapping's "
                                       "catalogue].")] = None,
               description: Annotated[str | None, typer.Option("--description")] = None,
               parent: Annotated[str | None, typer.Option("--parent", help="Version this one derives from.")] = None,
               store: StoreOpt = None) -> None:
    """Validate every row of a JSONL/CSV file and publish it; on any bad row print all problems, write nothing."""
    with cli_errors():
        from evalkit.dataset import import_file, read_manifest

        folder = import_file(file, name=name, version=version, task=task or (None if mapping else "upgrades"),
                             description=description, parent=parent, store=store, mapping=mapping,
                             catalogue=catalogue)
        m = read_manifest(folder)
        typer.echo(f"published {m.ref}: {m.row_count:,} cases -> {folder} (sha256 {m.sha256[:12]}…)")


def mapping_schema_cmd(
    out: Annotated[Path | None, typer.Option("-o", help="Write the JSON Schema here instead of stdout.")] = None,
) -> None:
    """Print the JSON Schema of an import mapping file (for editor validation via yaml-language-server)."""
    import json

    from evalkit.dataset import mapping_json_schema

    text = json.dumps(mapping_json_schema(), indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
        return
    from evalkit import _io

    _io.write_text(out, text)


def catalogue_schema_cmd(
    task: Annotated[str, typer.Option("--task", help="Task whose catalogue format to print.")] = "upgrades",
    out: Annotated[Path | None, typer.Option("-o", help="Write the JSON Schema here instead of stdout.")] = None,
) -> None:
    """Print the JSON Schema of a task's catalogue file (plans, prices, cohorts, policy clauses)."""
    with cli_errors():
        import json

        from evalkit.tasks import get_task, require_capability

        owner = require_capability(get_task(task), "catalogue", needed_by="catalogue-schema")
        text = json.dumps(owner.catalogue_json_schema(), indent=2) + "\n"
        if out is None:
            typer.echo(text, nl=False)
            return
        from evalkit import _io

        _io.write_text(out, text)


def diff_cmd(ref_a: Annotated[str, typer.Argument(help="Old version (NAME@VERSION or folder).")],
             ref_b: Annotated[str, typer.Argument(help="New version.")],
             store: StoreOpt = None,
             limit: Annotated[int, typer.Option("--limit", help="Case ids shown per list (0 = all).")] = 20,
             ) -> None:
    """Show cases added, removed and changed from REF_A to REF_B, and the change in segment counts."""
    with cli_errors():
        from rich.table import Table

        from evalkit.dataset import diff

        d = diff(ref_a, ref_b, store=store)
        console = _console()
        console.print(f"[bold]{d.a} -> {d.b}[/bold]: {len(d.added):,} added, {len(d.removed):,} removed, "
                      f"{len(d.changed):,} changed, {d.unchanged:,} unchanged")
        for label, ids in (("added", d.added), ("removed", d.removed), ("changed", d.changed)):
            if ids:
                shown = ids if limit <= 0 else ids[:limit]
                more = f" … and {len(ids) - len(shown):,} more" if len(shown) < len(ids) else ""
                console.print(f"  {label}: {', '.join(shown)}{more}")
        for line in d.attachment_lines():  # a shipped catalogue or corpus that changed changes every decision
            console.print(f"  shipped file {line}")
        table = Table(title="cases per segment")
        for col in ("segment", d.a, d.b, "change"):
            table.add_column(col, justify="left" if col == "segment" else "right")
        for seg, delta in d.segment_delta.items():
            table.add_row(seg, f"{d.segment_counts_a.get(seg, 0):,}", f"{d.segment_counts_b.get(seg, 0):,}",
                          f"{delta:+,}" if delta else "0")
        console.print(table)


def generate_cmd(task: Annotated[str, typer.Argument(help="Task name, e.g. upgrades.")],
                 n: Annotated[int, typer.Option("--n", min=1, help="Number of cases.")],
                 seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same bytes).")],
                 name: Annotated[str | None, typer.Option("--name", help="[default: the task name]")] = None,
                 version: Annotated[str | None, typer.Option("--version", help="[default: next free vN]")] = None,
                 description: Annotated[str | None, typer.Option("--description")] = None,
                 parent: Annotated[str | None, typer.Option("--parent")] = None,
                 store: StoreOpt = None) -> None:
    """Generate N synthetic cases with the task's generator and publish them as a new version."""
    with cli_errors():
        import time

        from evalkit.dataset import generate_dataset, list_versions, read_manifest

        start = time.perf_counter()
        before = {e.version for e in list_versions(store) if e.name == (name or task)}
        folder = generate_dataset(task, n=n, seed=seed, name=name, version=version, description=description,
                                  parent=parent, store=store)
        m = read_manifest(folder)
        if m.version in before:
            typer.echo(f"identical to {m.ref} (sha256 {m.sha256[:12]}…): nothing written; "
                       "a different --seed or --n makes new content")
            return
        typer.echo(f"published {m.ref}: {m.row_count:,} cases -> {folder} (sha256 {m.sha256[:12]}…) "
                   f"in {time.perf_counter() - start:.1f}s")


def register(app: typer.Typer) -> None:
    """Add the ``dataset`` command group to the app."""
    add_group(app, "dataset", "Versioned case datasets: list, show, validate, import, diff, generate.",
              {"list": list_cmd, "show": show_cmd, "validate": validate_cmd, "import": import_cmd, "diff": diff_cmd,
               "generate": generate_cmd, "mapping-schema": mapping_schema_cmd,
               "catalogue-schema": catalogue_schema_cmd})
