"""``flask suggestions ...`` commands."""
import click
from flask.cli import AppGroup

from core.extensions import db
from suggestions import services

cli = AppGroup("suggestions", help="Maintain proposals.")


@cli.command("recount")
def recount() -> None:
    """Rebuild every proposal's support and oppose counters from the vote rows."""
    changed = services.recount_votes()
    db.session.commit()
    click.echo(f"{changed} proposals had their counters corrected.")
