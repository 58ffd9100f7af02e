"""``flask accounts ...`` commands."""
import click
import sqlalchemy as sa
from flask.cli import AppGroup

from accounts import services
from accounts.models import Body, BodyKind, BodyLevel, Role, User
from core.cli import domain_errors_as_click_errors
from core.extensions import db

cli = AppGroup("accounts", help="Manage user accounts.")


@cli.command("create-admin")
@click.argument("username")
@click.password_option()
def create_admin(username: str, password: str) -> None:
    """Create an administrator account with USERNAME (asks for the password)."""
    with domain_errors_as_click_errors():
        user = services.register_user(username, password)
        services.set_role(None, user, Role.ADMIN)
    db.session.commit()
    click.echo(f"Administrator {user.username} created.")


@cli.command("create-body")
@click.argument("name")
@click.option("--kind", type=click.Choice([k.value for k in BodyKind]), required=True)
@click.option("--level", type=click.Choice([lv.value for lv in BodyLevel]), required=True)
@click.option("--region", required=True, help="e.g. 江南省临川市")
@click.option("--parent", "parent_id", type=int, help="Id of the parent body.")
@click.option("--name-en", default="", help="English name.")
@click.option("--email", default="", help="Contact e-mail for deadline reminders.")
def create_body(name: str, kind: str, level: str, region: str, parent_id: int | None, name_en: str,
                email: str) -> None:
    """Create a body (people's congress, CPPCC committee, department, ministry…) called NAME."""
    parent = db.session.get(Body, parent_id) if parent_id else None
    if parent_id and parent is None:
        raise click.ClickException(f"No body with id {parent_id}.")
    with domain_errors_as_click_errors():
        body = services.create_body(None, name=name, kind=kind, level=level, region=region, parent=parent,
                                    name_en=name_en, contact_email=email)
    db.session.commit()
    click.echo(f"Body {body.id} created: {body.name}")


@cli.command("add-member")
@click.argument("username")
@click.argument("body_id", type=int)
@click.option("--role", type=click.Choice(["staff", "manager"]), default="staff", show_default=True)
def add_member(username: str, body_id: int, role: str) -> None:
    """Make USERNAME staff of the body BODY_ID."""
    user = db.session.scalar(sa.select(User).where(User.username == services.normalise_username(username)))
    body = db.session.get(Body, body_id)
    if user is None or body is None:
        raise click.ClickException("Unknown user or body.")
    services.add_member(None, user, body, role)
    db.session.commit()
    click.echo(f"{user.username} is now {role} of {body.name}.")
