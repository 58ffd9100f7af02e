"""The audit log: one row per state change or staff action, written in the same transaction."""
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models import UTCDateTime, utcnow


class AuditLog(db.Model):
    __tablename__ = "audit_log"
    __table_args__ = (
        sa.Index("ix_audit_log_target", "target_type", "target_id", "created_at"),
        sa.Index("ix_audit_log_actor", "actor_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(sa.String(64))
    target_type: Mapped[str] = mapped_column(sa.String(32))
    target_id: Mapped[int] = mapped_column()
    body_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bodies.id"), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def record(actor, action: str, target, *, body_id: int | None = None, **detail) -> AuditLog:
    """Add an audit row for ``actor`` doing ``action`` on ``target`` (a model instance with an id)."""
    if target.id is None:
        db.session.flush()
    entry = AuditLog(
        actor_id=actor.id if actor is not None else None,
        action=action,
        target_type=target.__tablename__,
        target_id=target.id,
        body_id=body_id,
        detail=detail,
    )
    db.session.add(entry)
    return entry


# --- how people read the log: one label per action code, object type and detail key ------------------------------
# The audit-log viewer (moderation) and any other page that lists rows use these; a code missing here shows as
# itself. Each action names the object types its rows are about, so a filter offers only actions a reader can find.

class Action(NamedTuple):
    label: LazyString
    group: str
    target_types: tuple[str, ...]


# Groups in the order the action filter lists them; the key is also the code prefix the group's filter matches.
ACTION_GROUPS: dict[str, LazyString] = {
    "suggestion": _l("Proposals"), "reply": _l("Replies and ratings"), "moderation": _l("Reports and sensitive words"),
    "flood": _l("Floods"), "cluster": _l("Similar proposals"), "campaign": _l("Campaigns"),
    "outcome": _l("Policy outcomes"), "body": _l("Bodies and their staff"), "user": _l("User accounts"),
    "phone": _l("Mobile number verification"), "api_token": _l("API tokens"), "edition": _l("Local editions"),
    "draft": _l("Draft consultations"),
}
_S, _R, _C = ("suggestions",), ("replies",), ("campaigns",)
ACTIONS: dict[str, Action] = {
    "suggestion.submit": Action(_l("Proposal submitted"), "suggestion", _S),
    "suggestion.publish": Action(_l("Published after screening"), "suggestion", _S),
    "suggestion.reject": Action(_l("Not published (rejected)"), "suggestion", _S),
    "suggestion.accept": Action(_l("Proposal accepted for handling"), "suggestion", _S),
    "suggestion.assign": Action(_l("Handling bodies assigned"), "suggestion", _S),
    "suggestion.transfer": Action(_l("Transferred to another body"), "suggestion", _S),
    "suggestion.threshold": Action(_l("Support threshold reached: reply deadline set"), "suggestion", _S),
    "suggestion.extend_deadline": Action(_l("Reply deadline extended"), "suggestion", _S),
    "suggestion.reply": Action(_l("Official reply given"), "suggestion", _S),
    "suggestion.close": Action(_l("Handling finished"), "suggestion", _S),
    "suggestion.withdraw": Action(_l("Withdrawn by the author"), "suggestion", _S),
    "suggestion.hide": Action(_l("Proposal hidden"), "suggestion", _S),
    "suggestion.unhide": Action(_l("Proposal shown again"), "suggestion", _S),
    "reply.rate": Action(_l("Reply rated by the author"), "reply", _S),
    "reply.hide": Action(_l("Reply hidden"), "reply", _R),
    "reply.unhide": Action(_l("Reply shown again"), "reply", _R),
    "moderation.report": Action(_l("Content reported"), "moderation", _S + _R),
    "moderation.uphold_reports": Action(_l("Reports upheld"), "moderation", _S + _R),
    "moderation.dismiss_reports": Action(_l("Reports dismissed"), "moderation", _S + _R),
    "moderation.add_word": Action(_l("Sensitive word added"), "moderation", ("sensitive_words",)),
    "moderation.remove_word": Action(_l("Sensitive word removed"), "moderation", ("sensitive_words",)),
    "flood.detect": Action(_l("Flood detected"), "flood", ("flood_groups",)),
    "flood.grow": Action(_l("Flood grew"), "flood", ("flood_groups",)),
    "flood.hold": Action(_l("Flood's supports held"), "flood", ("flood_groups",)),
    "flood.release": Action(_l("Flood's supports released"), "flood", ("flood_groups",)),
    "clusters.rebuild": Action(_l("Similar proposals regrouped (batch)"), "cluster", _C),
    "cluster.confirm": Action(_l("Group of similar proposals confirmed"), "cluster", ("clusters",)),
    "cluster.representative": Action(_l("Representative proposal changed"), "cluster", ("clusters",)),
    "cluster.move_out": Action(_l("Proposal moved out of its group"), "cluster", ("clusters",)),
    "cluster.merge": Action(_l("Groups of similar proposals merged"), "cluster", ("clusters",)),
    "campaign.create": Action(_l("Campaign created"), "campaign", _C),
    "campaign.update": Action(_l("Campaign edited"), "campaign", _C),
    "campaign.open": Action(_l("Campaign opened"), "campaign", _C),
    "campaign.close": Action(_l("Campaign closed"), "campaign", _C),
    "campaign.archive": Action(_l("Campaign archived"), "campaign", _C),
    "campaign.import_create": Action(_l("Campaign created for imported messages"), "campaign", _C),
    "campaign.import_messages": Action(_l("Messages imported"), "campaign", _C),
    "outcome.create": Action(_l("Policy outcome recorded"), "outcome", ("policy_outcomes",)),
    "outcome.update": Action(_l("Policy outcome updated"), "outcome", ("policy_outcomes",)),
    "outcome.milestone": Action(_l("Milestone added"), "outcome", ("policy_outcomes",)),
    "outcome.link": Action(_l("Proposal linked to a policy outcome"), "outcome", ("policy_outcomes",)),
    "outcome.link_cluster": Action(_l("Group of similar proposals linked to a policy outcome"), "outcome",
                                   ("policy_outcomes",)),
    "body.create": Action(_l("Body created"), "body", ("bodies",)),
    "edition.create": Action(_l("Edition created"), "edition", ("editions",)),
    "edition.add_operator": Action(_l("Edition operator added"), "edition", ("editions",)),
    "edition.remove_operator": Action(_l("Edition operator removed"), "edition", ("editions",)),
    "edition.set_logo": Action(_l("Edition logo set"), "edition", ("editions",)),
    "body.add_member": Action(_l("Staff member added"), "body", ("bodies",)),
    "body.change_member_role": Action(_l("Staff member's role changed"), "body", ("bodies",)),
    "body.remove_member": Action(_l("Staff member removed"), "body", ("bodies",)),
    "user.change_password": Action(_l("Password changed"), "user", ("users",)),
    "user.update_profile": Action(_l("Profile updated"), "user", ("users",)),
    "user.set_role": Action(_l("Site role changed"), "user", ("users",)),
    "user.deactivate": Action(_l("Account deactivated"), "user", ("users",)),
    "user.reactivate": Action(_l("Account reactivated"), "user", ("users",)),
    "user.request_password_reset": Action(_l("Password reset requested"), "user", ("users",)),
    "user.issue_reset_link": Action(_l("Password reset link issued"), "user", ("users",)),
    "user.reset_password": Action(_l("Password reset with a link"), "user", ("users",)),
    "phone.send_code": Action(_l("Verification code sent"), "phone", ("users",)),
    "phone.code_withheld": Action(_l("Verification code withheld (number verified by another account)"), "phone",
                                  ("users",)),
    "phone.wrong_code": Action(_l("Wrong verification code typed"), "phone", ("users",)),
    "phone.verify": Action(_l("Mobile number verified"), "phone", ("users",)),
    "phone.release": Action(_l("Verified number released"), "phone", ("users",)),
    "api_token.create": Action(_l("API token created"), "api_token", ("api_tokens",)),
    "api_token.revoke": Action(_l("API token revoked"), "api_token", ("api_tokens",)),
    "draft.create": Action(_l("Draft imported for comment"), "draft", ("drafts",)),
    "draft.version": Action(_l("New version of a draft imported"), "draft", ("drafts",)),
    "draft.link_comments": Action(_l("Earlier proposals tied to the draft's articles"), "draft", ("drafts",)),
    "draft.decision": Action(_l("Decision on a group of comments recorded"), "draft", ("draft_decisions",)),
    "draft.report_publish": Action(_l("Feedback report published"), "draft", ("drafts",)),
    "draft.report_update": Action(_l("Feedback report's introduction updated"), "draft", ("drafts",)),
}

# What each row is about, by the table name ``record`` stores.
TARGET_TYPE_LABELS: dict[str, LazyString] = {
    "suggestions": _l("Proposal"), "replies": _l("Reply"), "users": _l("Account"), "bodies": _l("Body"),
    "campaigns": _l("Campaign"), "clusters": _l("Group of similar proposals"), "policy_outcomes": _l("Policy outcome"),
    "flood_groups": _l("Flood"), "sensitive_words": _l("Sensitive word"), "api_tokens": _l("API token"),
    "editions": _l("Edition"), "drafts": _l("Draft"), "draft_decisions": _l("Decision on comments"),
}

# The keys of ``detail``; their values are read by the viewer (moderation.audit_display).
DETAIL_LABELS: dict[str, LazyString] = {
    "status": _l("Status"), "previous": _l("Previously"), "private_contact": _l("Private contact details given"),
    "held_for": _l("Matched sensitive words"), "reason": _l("Reason"), "reports": _l("Number of reports"),
    "automatic": _l("Automatically"), "needs_investigation": _l("Needs investigation"), "decision": _l("Decision"),
    "lead": _l("Lead body"), "co_handlers": _l("Co-handling bodies"), "from_body": _l("From body"),
    "to_body": _l("To body"), "supports": _l("Supports"), "due": _l("Reply due"), "new": _l("New deadline"),
    "satisfaction": _l("Rating"), "reasons": _l("Reasons given"), "reopened": _l("Reopened for a second reply"),
    "proposals": _l("Number of proposals"), "clusters": _l("Groups formed"), "members": _l("Proposals in the group"),
    "representative": _l("Representative proposal"), "suggestion": _l("Proposal"), "new_cluster": _l("New group"),
    "merged_cluster": _l("Group merged in"), "moved": _l("Proposals moved"),
    "cluster": _l("Group of similar proposals"), "stage": _l("Stage"), "previous_stage": _l("Previous stage"),
    "progress": _l("Progress"), "previous_progress": _l("Previous progress"), "happened_on": _l("Date"),
    "title": _l("Title"),
    "word": _l("Word"), "category": _l("Category"), "report": _l("Report number"), "kind": _l("Kind"),
    "added": _l("Newly added"), "held": _l("Supports held at once"), "votes": _l("Supports concerned"),
    "rules": _l("Signs"), "phone": _l("Mobile number"), "attempts": _l("Wrong tries"), "voided": _l("Code voided"),
    "changed": _l("Changed"), "role": _l("Role"), "removed_from_bodies": _l("Removed from bodies"),
    "user_id": _l("Account"), "site_role": _l("Site role"), "name": _l("Name"), "source": _l("Source"),
    "code": _l("Region code"), "host": _l("Host name"), "file": _l("File"),
    "rows": _l("Rows read"), "imported": _l("Imported"),
    "version": _l("Version"), "articles": _l("Articles"), "kept": _l("Articles kept from the previous version"),
    "comments": _l("Comments"), "article": _l("Article"), "comment": _l("Comment"),
}


def action_label(code: str) -> str:
    """The translated label of an action code; an unknown code shows as itself."""
    action = ACTIONS.get(code)
    return str(action.label) if action else code


def target_type_label(target_type: str) -> str:
    """The translated name of an object type (a table name); an unknown type shows as itself."""
    return str(TARGET_TYPE_LABELS.get(target_type, target_type))


def detail_label(key: str) -> str:
    return str(DETAIL_LABELS.get(key, key))


def group_codes(prefix: str) -> tuple[str, ...]:
    """The known actions of the group a filter value like "suggestion." names (none for another prefix)."""
    return tuple(code for code, action in ACTIONS.items() if f"{action.group}." == prefix)
