"""``flask editions ...`` commands."""
import click
from flask.cli import AppGroup

from core.cli import domain_errors_as_click_errors
from core.extensions import db
from editions import services

cli = AppGroup("editions", help="Local editions: a region's own portal.")


@cli.command("create")
@click.argument("code")
@click.option("--name", required=True, help="e.g. 临川市人民建议征集平台")
@click.option("--short-name", required=True, help="e.g. 临川")
@click.option("--name-en", default="")
@click.option("--short-name-en", default="")
@click.option("--colour", default="#1f4e79", help="The header band's colour, #rrggbb.")
@click.option("--host", default=None, help="Its own host name, e.g. linchuan.example.cn (optional).")
def create(code: str, name: str, short_name: str, name_en: str, short_name_en: str, colour: str,
           host: str | None) -> None:
    """Open an edition for the region whose division code is CODE (flask accounts load-regions first)."""
    with domain_errors_as_click_errors():
        edition = services.create_edition(None, code=code, name=name, short_name=short_name, name_en=name_en,
                                          short_name_en=short_name_en, colour=colour, host=host)
    db.session.commit()
    click.echo(f"Edition {edition.code} created: {edition.name}, at /r/{edition.code}/"
               + (f" and on {edition.host}" if edition.host else ""))


@cli.command("list")
def list_editions() -> None:
    """The editions, their regions and host names."""
    for edition in services.all_editions():
        click.echo(f"{edition.code}\t{edition.name}\t{edition.region.path}\t{edition.host or '-'}")


@cli.command("add-operator")
@click.argument("code")
@click.argument("username")
def add_operator(code: str, username: str) -> None:
    """Make USERNAME an operator of the edition CODE: it runs the edition's bodies, their staff and campaigns."""
    from accounts.services import find_user

    edition, user = services.edition_by_code(code), find_user(username)
    if edition is None or user is None:
        raise click.ClickException(f"No edition {code}." if edition is None else f"No user called {username}.")
    with domain_errors_as_click_errors():
        services.add_operator(None, edition, user)
    db.session.commit()
    click.echo(f"{user.username} now operates {edition.name}.")


@cli.command("set-logo")
@click.argument("code")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def set_logo(code: str, file: str) -> None:
    """Give the edition CODE its logo: FILE, an SVG or PNG of at most 200 KB (copied into EDITION_LOGO_DIR)."""
    from pathlib import Path

    from flask import current_app

    edition = services.edition_by_code(code)
    if edition is None:
        raise click.ClickException(f"No edition {code}.")
    with domain_errors_as_click_errors():
        name = services.set_logo(None, edition, file, Path(file).read_bytes(), current_app.config["EDITION_LOGO_DIR"])
    db.session.commit()
    click.echo(f"{edition.name}: logo {name}")
