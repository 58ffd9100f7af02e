"""``flask moderation ...`` commands."""
from dataclasses import replace
from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from core.extensions import db
from moderation import floods, words

cli = AppGroup("moderation", help="Moderation: the sensitive-word list and flood detection.")


@cli.command("seed-words")
@click.option("--missing", is_flag=True,
              help="Add every default word not yet listed, even to a list that has words (re-adds removed ones).")
def seed_words(missing: bool) -> None:
    """Put the small default sensitive-word list (moderation/default_words.py) into an empty list; safe to re-run."""
    added = words.seed_default_words(only_if_empty=not missing)
    db.session.commit()
    click.echo(f"{added} default words added." if added else "The word list already has words; nothing added.")


@cli.command("detect-floods")
@click.option("--hours", type=click.IntRange(1, 24 * 90), default=None,
              help="How far back to look (default FLOOD_LOOKBACK_HOURS, 24).")
def detect_floods(hours: int | None) -> None:
    """Find bursts of coordinated supports and submissions and show them to moderators (run from cron every few
    minutes; safe to re-run: nothing is flagged twice)."""
    settings = floods.FloodSettings.from_config(current_app.config)
    if hours:
        settings = replace(settings, lookback=timedelta(hours=hours))
    found = floods.detect_floods(settings)
    db.session.commit()
    for group in found:
        click.echo(f"flood group {group.id}: {group.kind}, {group.size} items, {group.status}")
    click.echo(f"{len(found)} groups found or grown.")
