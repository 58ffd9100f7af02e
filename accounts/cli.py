"""``flask accounts ...`` commands."""
import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from accounts import phones, recovery, services
from accounts.models import Body, BodyKind, BodyLevel, Membership, MembershipRole, Role, User
from core.cli import domain_errors_as_click_errors
from core.extensions import db

cli = AppGroup("accounts", help="Manage user accounts.")


def _user(username: str) -> User:
    user = services.find_user(username)
    if user is None:
        raise click.ClickException(f"No user called {username}.")
    return user


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


@cli.command("load-regions")
def load_regions() -> None:
    """Load China's administrative divisions (accounts/divisions/divisions.csv) and place bodies in them."""
    from accounts import regions

    added = regions.load_divisions()
    placed = regions.place_bodies()
    db.session.commit()
    click.echo(f"{added} divisions added; {placed} bodies placed in the division their region names.")


@cli.command("add-member")
@click.argument("username")
@click.argument("body_id", type=int)
@click.option("--role", type=click.Choice([r.value for r in MembershipRole]), default="staff", show_default=True)
def add_member(username: str, body_id: int, role: str) -> None:
    """Make USERNAME staff of the body BODY_ID."""
    user, body = _user(username), db.session.get(Body, body_id)
    if body is None:
        raise click.ClickException(f"No body with id {body_id}.")
    with domain_errors_as_click_errors():
        services.add_member(None, user, body, role)
    db.session.commit()
    click.echo(f"{user.username} is now {role} of {body.name}.")


@cli.command("remove-member")
@click.argument("username")
@click.argument("body_id", type=int)
def remove_member(username: str, body_id: int) -> None:
    """Take USERNAME off the staff of the body BODY_ID."""
    user = _user(username)
    membership = db.session.scalar(sa.select(Membership).where(Membership.user_id == user.id,
                                                               Membership.body_id == body_id))
    if membership is None:
        raise click.ClickException(f"{user.username} is not staff of body {body_id}.")
    with domain_errors_as_click_errors():
        services.remove_member(None, membership)
    db.session.commit()
    click.echo(f"{user.username} is no longer staff of body {body_id}; site role {user.role}.")


@cli.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice([r.value for r in Role]))
def set_role(username: str, role: str) -> None:
    """Give USERNAME a site role ("citizen" also removes every body membership)."""
    user = _user(username)
    with domain_errors_as_click_errors():
        services.set_role(None, user, role)
    db.session.commit()
    click.echo(f"{user.username} is now {role}.")


@cli.command("deactivate")
@click.argument("username")
@click.option("--reason", required=True, help="Why (kept in the audit log).")
def deactivate(username: str, reason: str) -> None:
    """Deactivate USERNAME: its sessions end and it can no longer log in."""
    user = _user(username)
    with domain_errors_as_click_errors():
        services.deactivate_user(None, user, reason)
    db.session.commit()
    click.echo(f"{user.username} is deactivated.")


@cli.command("reactivate")
@click.argument("username")
def reactivate(username: str) -> None:
    """Let the deactivated USERNAME log in again."""
    user = _user(username)
    with domain_errors_as_click_errors():
        services.reactivate_user(None, user)
    db.session.commit()
    click.echo(f"{user.username} can log in again.")


@cli.command("reset-link")
@click.argument("username")
def reset_link(username: str) -> None:
    """Print a password-reset link for USERNAME (for someone without an e-mail address; hand it over safely)."""
    user = _user(username)
    with domain_errors_as_click_errors():
        link = recovery.issue_reset_link(user, site_url=current_app.config["SITE_URL"],
                                         max_age_minutes=current_app.config["PASSWORD_RESET_MAX_AGE_MINUTES"])
    db.session.commit()
    click.echo(link)


@cli.command("release-phone")
@click.argument("username")
def release_phone(username: str) -> None:
    """Take the verified mobile number off USERNAME (a changed number, or one the person no longer holds): the
    account may verify another, and the number may verify another account."""
    user = _user(username)
    with domain_errors_as_click_errors():
        masked = phones.release_phone(None, user)
    db.session.commit()
    click.echo(f"{masked} is no longer verified for {user.username}.")
