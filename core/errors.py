"""Domain errors raised by services; views turn them into a flash message or a 4xx response.

Each error carries a user-facing message marked for translation with ``lazy_gettext`` so the
view can show it in the user's language.
"""
from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    status_code = 400
    default_message = _l("The request could not be carried out.")

    def __init__(self, message=None):
        self.message = message or self.default_message
        super().__init__(self.message)


class NotAllowed(DomainError):
    status_code = 403
    default_message = _l("You are not allowed to do this.")


class NotFound(DomainError):
    status_code = 404
    default_message = _l("Not found.")


class InvalidInput(DomainError):
    status_code = 400
    default_message = _l("The input is not valid.")


class Conflict(DomainError):
    status_code = 409
    default_message = _l("This conflicts with the current state.")
