"""Helpers shared by the CLI commands of every package."""
from contextlib import contextmanager

import click

from core.errors import DomainError
from core.extensions import db


@contextmanager
def domain_errors_as_click_errors():
    """Roll back and turn a service's domain error into a clean command-line error message."""
    try:
        yield
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from None
