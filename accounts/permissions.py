"""Who may act for which body. Services call these before any staff action.

A membership of the body is what counts (staff handle its proposals; managers also run its campaigns);
administrators act for every body.
"""
from flask_babel import lazy_gettext as _l

from accounts.models import Body, MembershipRole, Role, User
from core.errors import NotAllowed


def _is_user(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def can_act_for_body(user: User | None, body_id: int) -> bool:
    """May handle the body's proposals: administrators and the body's staff and managers."""
    if not _is_user(user):
        return False
    return user.role == Role.ADMIN or body_id in user.body_ids()


def can_manage_body(user: User | None, body_id: int) -> bool:
    """May run the body's campaigns: administrators and the body's managers."""
    if not _is_user(user):
        return False
    return user.role == Role.ADMIN or body_id in user.body_ids(MembershipRole.MANAGER)


def _body_id(body: Body | int) -> int:
    return body if isinstance(body, int) else body.id


def require_body_staff(user: User | None, body: Body | int) -> None:
    """Raise ``NotAllowed`` unless ``user`` may handle the proposals of ``body``."""
    if not can_act_for_body(user, _body_id(body)):
        raise NotAllowed(_l("Only staff of the responsible body may do this."))


def require_body_manager(user: User | None, body: Body | int) -> None:
    """Raise ``NotAllowed`` unless ``user`` may run the campaigns of ``body``."""
    if not can_manage_body(user, _body_id(body)):
        raise NotAllowed(_l("Only managers of the body may run its campaigns."))


def require_moderator(user: User | None) -> None:
    """Raise ``NotAllowed`` unless ``user`` is a moderator or an administrator."""
    if not _is_user(user) or not user.is_moderator:
        raise NotAllowed(_l("Only moderators may do this."))


def can_screen(user: User | None, body_id: int) -> bool:
    """May decide whether a pending proposal of the body's campaigns is published: the body's staff and
    managers, moderators and administrators."""
    return can_act_for_body(user, body_id) or (_is_user(user) and user.is_moderator)


def require_screener(user: User | None, body: Body | int) -> None:
    """Raise ``NotAllowed`` unless ``user`` may screen the proposals of ``body``'s campaigns."""
    if not can_screen(user, _body_id(body)):
        raise NotAllowed(_l("Only staff of the responsible body or moderators may do this."))


def require_admin(user: User | None) -> None:
    """Raise ``NotAllowed`` unless ``user`` is an administrator."""
    if not _is_user(user) or not user.is_admin:
        raise NotAllowed(_l("Only administrators may do this."))
