"""``flask demo load``: fill an empty database with the project's own demo content."""
import click
from flask.cli import AppGroup

from core.extensions import db

cli = AppGroup("demo", help="Demo data.")


@cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when the database already has data.")
@click.option("--seed", default=2026, show_default=True, help="Random seed: the same seed gives the same data.")
@click.option("--proposals", default=2400, show_default=True, help="How many proposals to create.")
def load(if_empty: bool, seed: int, proposals: int) -> None:
    """Load demo bodies, campaigns, proposals, supports and replies."""
    # Imported here, not at the top: the demo generator is only needed by this command, not by every start.
    from demo.load import DEMO_PASSWORD, database_is_empty, load_demo

    if not database_is_empty():
        if if_empty:
            click.echo("The database already has data; demo data not loaded.")
            return
        raise click.ClickException("The database is not empty. Load demo data into a fresh database only.")
    counts = load_demo(seed=seed, n_proposals=proposals)
    db.session.commit()
    click.echo("Loaded: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    click.echo(f"Log in as 'admin', 'moderator' or a body's staff (e.g. 'staff_prov_npc'); password '{DEMO_PASSWORD}'.")
