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

    @cache_app.command("prune")
    def prune(
        older_than: float = typer.Option(None, "--older-than", metavar="DAYS", min=0.0,
                                         help="Delete entries written more than DAYS days ago."),
        all_: bool = typer.Option(False, "--all", help="Delete every entry."),
    ) -> None:
        """Delete old cache entries (--older-than DAYS) or all of them (--all)."""
        from evalkit.cli._common import cli_errors
        from evalkit.errors import EvalkitError

        with cli_errors():
            if (older_than is None) == (not all_):
                raise EvalkitError("cache prune: give exactly one of --older-than DAYS or --all")
            if older_than is not None and older_than < 0:
                raise EvalkitError(f"cache prune: --older-than must be >= 0 days, got {older_than}")
            from evalkit.run import ResponseCache

            cache = ResponseCache()
            removed = cache.prune(older_than_days=None if all_ else older_than)
            typer.echo(f"removed {removed} entr{'y' if removed == 1 else 'ies'} from {cache.root}")

    app.add_typer(cache_app, name="cache")
