"""CLI: ``evalkit cache stats | prune`` for the local response cache (EVALKIT_HOME)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the ``cache`` command group to the app."""
    cache_app = typer.Typer(help="Inspect or prune the local response cache (under EVALKIT_HOME).",
                            no_args_is_help=True)

    @cache_app.command("stats")
    def stats() -> None:
        """Entries, size, age and a count per provider/model."""
        from evalkit.cli._common import cli_errors

        with cli_errors():
            from evalkit.run import ResponseCache

            cache = ResponseCache()
            s = cache.stats()
            typer.echo(f"cache: {cache.root}")
            typer.echo(f"entries: {s.entries}")
            typer.echo(f"size: {s.bytes / 1e6:.2f} MB")
            if s.oldest is not None:
                typer.echo(f"oldest: {s.oldest.isoformat(timespec='seconds')}")
                typer.echo(f"newest: {s.newest.isoformat(timespec='seconds')}")
            for label, count in s.by_model.items():
                typer.echo(f"  {label}: {count}")
            for entry in s.corrupt:
                typer.echo(f"corrupt: {entry.path} ({entry.reason})")
            if s.corrupt:
                typer.echo(f"{len(s.corrupt)} corrupt entr{'y is' if len(s.corrupt) == 1 else 'ies are'} never served; "
                           "`evalkit cache prune --corrupt` deletes them (their calls are then paid again)")

    @cache_app.command("prune")
    def prune(
        older_than: float = typer.Option(None, "--older-than", metavar="DAYS", min=0.0,
                                         help="Delete entries written more than DAYS days ago."),
        all_: bool = typer.Option(False, "--all", help="Delete every entry."),
        corrupt: bool = typer.Option(False, "--corrupt", help="Delete the entries that fail their checks."),
    ) -> None:
        """Delete old cache entries (--older-than DAYS), corrupt ones (--corrupt) or all of them (--all)."""
        from evalkit.cli._common import cli_errors
        from evalkit.errors import EvalkitError

        with cli_errors():
            if sum((older_than is not None, all_, corrupt)) != 1:
                raise EvalkitError("cache prune: give exactly one of --older-than DAYS, --corrupt or --all")
            if corrupt:
                from evalkit.run import ResponseCache

                cache = ResponseCache()
                removed = cache.prune_corrupt()
                typer.echo(f"removed {removed} corrupt entr{'y' if removed == 1 else 'ies'} from {cache.root}")
                return
            if older_than is not None and older_than < 0:
                raise EvalkitError(f"cache prune: --older-than must be >= 0 days, got {older_than}")
            from evalkit.run import ResponseCache

            cache = ResponseCache()
            removed = cache.prune(older_than_days=None if all_ else older_than)
            typer.echo(f"removed {removed} entr{'y' if removed == 1 else 'ies'} from {cache.root}")

    app.add_typer(cache_app, name="cache")
