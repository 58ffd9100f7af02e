"""Moderation services: citizens report proposals and official replies; moderators (and, for pending
proposals, the campaign body's staff) publish, reject, hide, restore and dismiss reports.

Each function checks who may act, writes its audit rows and flushes; the view or command commits once. A
proposal's visibility stays its status (``suggestions.services`` makes every status change); a reply's is
``Reply.hidden_at``.
"""
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from accounts.models import Membership, User
from accounts.permissions import require_moderator
from core import audit
from core.errors import Conflict, DomainError, InvalidInput, NotAllowed
from core.extensions import db
from core.models import utcnow
from core.text import clean_text
from moderation.models import Report, ReportReason, Resolution, TargetType
from suggestions import services as suggestion_services
from suggestions.models import Reply, Status, Suggestion

NOTE_MAX_LENGTH = 500
HIDE_REASON_MAX_LENGTH = 200
MAX_ITEMS = 100  # items one bulk decision may name
ACTIONS = ("publish", "reject", "hide", "restore", "dismiss")

Target = Suggestion | Reply


def target_type(target: Target) -> TargetType:
    return TargetType.REPLY if isinstance(target, Reply) else TargetType.SUGGESTION


def proposal_of(target: Target) -> Suggestion:
    return target.suggestion if isinstance(target, Reply) else target


def _is_visible_publicly(target: Target) -> bool:
    if isinstance(target, Reply):
        return target.hidden_at is None and target.suggestion.is_public
    return target.is_public


def open_reports(target: Target) -> list[Report]:
    """The target's reports that no moderator has decided on yet."""
    return list(db.session.scalars(
        sa.select(Report).where(Report.target_type == target_type(target), Report.target_id == target.id,
                                Report.resolved_at.is_(None)).order_by(Report.id)))


def _handling_body_ids(suggestion: Suggestion) -> set[int]:
    """The campaign's body, the lead handling body and the co-handling bodies of a proposal."""
    bodies = {suggestion.campaign.body_id, suggestion.handling_body_id, *(c.body_id for c in suggestion.co_handlers)}
    return {body_id for body_id in bodies if body_id is not None}


def reports_toward_hiding(suggestion: Suggestion) -> int:
    """The proposal's open reports that count toward hiding it automatically: not those of the staff of its
    campaign's body or of a body handling it (they have their own tools), one per account."""
    staff = sa.select(Membership.user_id).where(Membership.body_id.in_(_handling_body_ids(suggestion)))
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Report)
        .where(Report.target_type == TargetType.SUGGESTION, Report.target_id == suggestion.id,
               Report.resolved_at.is_(None), Report.reporter_id.not_in(staff)))


def kept_by_moderator(suggestion: Suggestion) -> bool:
    """True if a moderator has already found the proposal acceptable: dismissed reports of it or restored it."""
    dismissed = sa.exists().where(Report.target_type == TargetType.SUGGESTION, Report.target_id == suggestion.id,
                                  Report.resolution == Resolution.DISMISSED)
    restored = sa.exists().where(audit.AuditLog.target_type == Suggestion.__tablename__,
                                 audit.AuditLog.target_id == suggestion.id,
                                 audit.AuditLog.action == "suggestion.unhide")
    return bool(db.session.scalar(sa.select(sa.or_(dismissed, restored))))


def _hide_if_reported_enough(suggestion: Suggestion) -> None:
    """Hide a published proposal once enough accounts reported it. Never one in handling (accepted or further)
    nor one a moderator already kept or restored: its open reports put it in the queue again, nothing more."""
    threshold = suggestion.campaign.report_hide_threshold
    if not threshold or suggestion.status != Status.PUBLISHED:
        return
    count = reports_toward_hiding(suggestion)
    if count >= threshold and not kept_by_moderator(suggestion):
        suggestion_services.hide_after_reports(suggestion, count)


def report(reporter: User, target: Target, reason: str, note: str = "", now: datetime | None = None) -> Report:
    """A citizen reports a public proposal or official reply (once per account and item); a published proposal
    reported by the campaign's number of distinct accounts (its bodies' staff not counted) is hidden until a
    moderator decides, unless a moderator already kept it."""
    if reporter is None or not getattr(reporter, "is_authenticated", False) or not reporter.is_active:
        raise NotAllowed(_l("Log in to report content."))
    if not _is_visible_publicly(target):
        raise Conflict(_l("Only public proposals and replies can be reported."))
    if target.author_id == reporter.id:
        raise Conflict(_l("You cannot report what you wrote yourself."))
    if reason not in ReportReason.__members__.values():
        raise InvalidInput(_l("Choose a reason for the report."))
    note = clean_text(note, field=_l("Note"), max_length=NOTE_MAX_LENGTH, min_length=0, multiline=True)
    if reason == ReportReason.OTHER and not note:
        raise InvalidInput(_l("Say in the note what is wrong when the reason is “Other”."))
    suggestion = proposal_of(target)
    # Serialise reports of one proposal, so that the count deciding the automatic hide sees every report.
    db.session.execute(sa.select(Suggestion.id).where(Suggestion.id == suggestion.id).with_for_update())
    kind = target_type(target)
    if db.session.scalar(sa.select(Report.id).where(Report.target_type == kind, Report.target_id == target.id,
                                                    Report.reporter_id == reporter.id)) is not None:
        raise Conflict(_l("You have already reported this."))
    entry = Report(target_type=kind, target_id=target.id, suggestion_id=suggestion.id, reporter_id=reporter.id,
                   reason=reason, note=note, created_at=now or utcnow())
    db.session.add(entry)
    db.session.flush()
    audit.record(reporter, "moderation.report", target, body_id=suggestion.campaign.body_id, reason=reason,
                 report=entry.id)
    if kind == TargetType.SUGGESTION:
        _hide_if_reported_enough(suggestion)
    return entry


def _close_reports(actor: User, target: Target, resolution: Resolution) -> int:
    """Close the target's open reports with the moderator's decision (one audit row); returns how many."""
    reports = open_reports(target)
    now = utcnow()
    for entry in reports:
        entry.resolution, entry.resolved_at, entry.resolved_by_id = resolution, now, actor.id
    if reports:
        audit.record(actor, f"moderation.{'dismiss' if resolution == Resolution.DISMISSED else 'uphold'}_reports",
                     target, body_id=proposal_of(target).campaign.body_id, reports=len(reports))
    return len(reports)


def hidden_automatically(suggestion: Suggestion) -> bool:
    """True if the hidden proposal was hidden by reports, not by a moderator (awaiting a decision)."""
    if suggestion.status != Status.HIDDEN:
        return False
    latest = db.session.scalar(
        sa.select(audit.AuditLog).where(audit.AuditLog.target_type == Suggestion.__tablename__,
                                        audit.AuditLog.target_id == suggestion.id,
                                        audit.AuditLog.action == "suggestion.hide")
        .order_by(audit.AuditLog.id.desc()).limit(1))
    return latest is not None and bool((latest.detail or {}).get("automatic"))


def _default_hide_reason(target: Target) -> str:
    """A reason code when the moderator gave none: the reports' most frequent reason, else "moderation"."""
    reasons = [entry.reason for entry in open_reports(target)]
    return max(sorted(set(reasons)), key=reasons.count) if reasons else "moderation"


def hide(moderator: User, target: Target, reason: str = "") -> None:
    """Hide a proposal or reply from the public, or keep hidden one that reports hid; open reports are upheld."""
    require_moderator(moderator)
    reason = clean_text(reason, field=_l("Reason"), max_length=HIDE_REASON_MAX_LENGTH, min_length=0)
    reason = reason or _default_hide_reason(target)
    if isinstance(target, Reply):
        if target.hidden_at is None:
            target.hidden_at = utcnow()
            audit.record(moderator, "reply.hide", target, body_id=target.suggestion.campaign.body_id, reason=reason)
        elif not open_reports(target):
            raise Conflict(_l("This reply is already hidden."))
    elif target.status != Status.HIDDEN:
        suggestion_services.hide_suggestion(moderator, target, reason)
    elif not open_reports(target):
        raise Conflict(_l("This proposal is already hidden."))
    _close_reports(moderator, target, Resolution.UPHELD)
    db.session.flush()


def restore(moderator: User, target: Target) -> None:
    """Show a hidden proposal (with the status it had) or reply again; open reports are dismissed."""
    require_moderator(moderator)
    if isinstance(target, Reply):
        if target.hidden_at is None:
            raise Conflict(_l("This reply is not hidden."))
        target.hidden_at = None
        audit.record(moderator, "reply.unhide", target, body_id=target.suggestion.campaign.body_id)
    else:
        if target.status != Status.HIDDEN:
            raise Conflict(_l("This proposal is not hidden."))
        suggestion_services.unhide_suggestion(moderator, target)
    _close_reports(moderator, target, Resolution.DISMISSED)
    db.session.flush()


def dismiss_reports(moderator: User, target: Target) -> None:
    """The reports are unfounded: close them; a proposal that the reports hid is shown again."""
    require_moderator(moderator)
    if not open_reports(target):
        raise Conflict(_l("There are no open reports on this item."))
    if isinstance(target, Suggestion) and hidden_automatically(target):
        suggestion_services.unhide_suggestion(moderator, target)
    _close_reports(moderator, target, Resolution.DISMISSED)
    db.session.flush()


def decide(actor: User, action: str, targets: list[Target], *, reason: str = "", reject_reason: str = "") -> int:
    """One decision for one or several items (the queue's buttons and bulk form): all of them, or none.

    Returns how many items were decided; the first refusal is raised naming its item, and the caller rolls
    back what the earlier items did.
    """
    if action not in ACTIONS:
        raise InvalidInput(_l("Choose an action."))
    if not targets:
        raise InvalidInput(_l("Choose at least one item."))
    if len(targets) > MAX_ITEMS:
        raise InvalidInput(_l("Decide on at most %(n)d items at a time.", n=MAX_ITEMS))
    for target in targets:
        try:
            _decide_one(actor, action, target, reason=reason, reject_reason=reject_reason)
        except DomainError as error:
            label = (_l("Reply #%(id)d", id=target.id) if isinstance(target, Reply)
                     else _l("Proposal #%(id)d", id=target.id))
            raise type(error)(_l("%(item)s: %(message)s", item=label, message=error.message)) from error
    return len(targets)


def _decide_one(actor: User, action: str, target: Target, *, reason: str, reject_reason: str) -> None:
    if action in ("publish", "reject"):
        if isinstance(target, Reply):
            raise InvalidInput(_l("Only proposals are published or rejected."))
        if action == "publish":
            suggestion_services.publish_suggestion(actor, target)
        else:
            suggestion_services.reject_suggestion(actor, target, reject_reason)
    elif action == "hide":
        hide(actor, target, reason)
    elif action == "restore":
        restore(actor, target)
    else:
        dismiss_reports(actor, target)
