"""``flask moderation ...`` commands."""
import click
from flask.cli import AppGroup

from core.extensions import db
from moderation import words

cli = AppGroup("moderation", help="Moderation: the sensitive-word list.")


@cli.command("seed-words")
@click.option("--missing", is_flag=True,
              help="Add every default word not yet listed, even to a list that has words (re-adds removed ones).")
def seed_words(missing: bool) -> None:
    """Put the small default sensitive-word list (moderation/default_words.py) into an empty list; safe to re-run."""
    added = words.seed_default_words(only_if_empty=not missing)
    db.session.commit()
    click.echo(f"{added} default words added." if added else "The word list already has words; nothing added.")
