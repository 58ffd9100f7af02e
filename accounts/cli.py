"""``flask accounts ...`` commands."""
import click
from flask.cli import AppGroup

from accounts import services
from accounts.models import Role
from core.errors import DomainError
from core.extensions import db

cli = AppGroup("accounts", help="Manage user accounts.")


@cli.command("create-admin")
@click.argument("username")
@click.password_option()
def create_admin(username: str, password: str) -> None:
    """Create an administrator account with USERNAME (asks for the password)."""
    try:
        user = services.register_user(username, password)
        services.set_role(None, user, Role.ADMIN)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    click.echo(f"Administrator {user.username} created.")
