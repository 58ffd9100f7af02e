"""Who may act for which body. Services call these before any staff action."""
from flask_babel import lazy_gettext as _l

from accounts.models import Body, Role, User
from core.errors import NotAllowed


def can_act_for_body(user: User | None, body_id: int) -> bool:
    """Admins act for every body; staff only for the bodies they belong to."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.STAFF and body_id in user.body_ids()


def require_body_staff(user: User | None, body: Body | int) -> None:
    """Raise ``NotAllowed`` unless ``user`` may act for ``body``."""
    body_id = body if isinstance(body, int) else body.id
    if not can_act_for_body(user, body_id):
        raise NotAllowed(_l("Only staff of the responsible body may do this."))


def require_moderator(user: User | None) -> None:
    """Raise ``NotAllowed`` unless ``user`` is a moderator or an administrator."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_moderator:
        raise NotAllowed(_l("Only moderators may do this."))
