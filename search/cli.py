"""``flask search ...`` commands."""
import click
from flask.cli import AppGroup

from search.indexing import catch_up, get_backend, reindex

cli = AppGroup("search", help="Maintain the search index.")


@cli.command("reindex")
def reindex_command() -> None:
    """Rebuild the search index from the database (safe to run at any time)."""
    count = reindex(get_backend())
    click.echo(f"{count} proposals indexed.")


@cli.command("catch-up")
def catch_up_command() -> None:
    """Index what the queue still holds (after a crash or a bulk load); rebuild an empty index whole."""
    count = catch_up(get_backend())
    click.echo(f"{count} proposals indexed or removed.")
