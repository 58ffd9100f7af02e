"""Reply deadlines in working days: set at acceptance (or when a proposal reaches its campaign's support
threshold), extended by staff with a reason within the campaign's bounds, watched for overdue.

Deadlines are Beijing calendar dates (a reply is on time if it comes on or before ``reply_due_on``), counted
on China's working-day calendar (``core.workdays``). The count starts the working day after acceptance.
``first_reply_due_on`` keeps the deadline as first set, so that extensions cannot hide late work: the public
figures count overdue proposals against both the first and the final deadline.
"""
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from accounts.models import Body, User
from campaigns.models import Campaign
from core import audit, jobs
from core.errors import Conflict, InvalidInput, NotAllowed
from core.extensions import db
from core.mail import deliver_outbox, queue_mail
from core.models import utcnow
from core.privacy import mask_personal_data
from core.text import clean_text
from core.workdays import add_working_days, working_days_between
from suggestions.handling import can_handle
from suggestions.models import DeadlineExtension, Status, Suggestion

BEIJING = ZoneInfo("Asia/Shanghai")
# A deadline runs for accepted proposals, and for published ones that reached the campaign's support threshold.
AWAITING_REPLY = (Status.PUBLISHED, Status.ACCEPTED)


def beijing_date(moment: datetime) -> date:
    return moment.astimezone(BEIJING).date()


def today() -> date:
    return beijing_date(utcnow())


def start_deadline(suggestion: Suggestion, *, needs_investigation: bool = False, keep_earlier: bool = True) -> None:
    """Set the reply deadline of a proposal just accepted: the campaign's working days after acceptance. A
    deadline already running (started by the support threshold) is kept if it is earlier."""
    campaign = suggestion.campaign
    days = campaign.investigation_working_days if needs_investigation else campaign.reply_working_days
    suggestion.needs_investigation = needs_investigation
    due = add_working_days(beijing_date(suggestion.accepted_at or utcnow()), days)
    if keep_earlier and suggestion.reply_due_on is not None:
        due = min(due, suggestion.reply_due_on)
    _set_deadline(suggestion, due, fresh=not keep_earlier)


def _set_deadline(suggestion: Suggestion, due: date, *, fresh: bool = False) -> None:
    """Set the running deadline; the first deadline is kept (or moved earlier), unless a new round starts
    (``fresh``: the proposal was reopened for a second reply)."""
    suggestion.reply_due_on = due
    if fresh or suggestion.first_reply_due_on is None:
        suggestion.first_reply_due_on = due
    else:
        suggestion.first_reply_due_on = min(suggestion.first_reply_due_on, due)


def record_first_reply(suggestion: Suggestion, replied_at: datetime) -> None:
    """Note the first official reply and its handling time (acceptance to reply, in calendar and working days
    between the Beijing dates); later replies change nothing. The handling time stays empty when the proposal
    was never accepted or the reply predates acceptance (bad imported data)."""
    if suggestion.first_replied_at is not None:
        return
    suggestion.first_replied_at = replied_at
    if suggestion.accepted_at is None:
        return
    start, end = beijing_date(suggestion.accepted_at), beijing_date(replied_at)
    if end >= start:
        suggestion.handling_days = (end - start).days
        suggestion.handling_working_days = working_days_between(start, end)


def note_support_threshold(suggestion: Suggestion, now: datetime) -> bool:
    """After a vote: if the proposal has just reached its campaign's support threshold (within the window),
    a reply becomes mandatory and its deadline starts. Returns True when that happened."""
    campaign = suggestion.campaign
    if (campaign.support_threshold is None or suggestion.threshold_reached_at is not None
            or suggestion.support_count < campaign.support_threshold
            or suggestion.status not in (Status.PUBLISHED, Status.ACCEPTED)):
        return False
    published = suggestion.published_at or suggestion.created_at
    if campaign.support_window_days and now - published > timedelta(days=campaign.support_window_days):
        return False
    suggestion.threshold_reached_at = now
    due = add_working_days(beijing_date(now), campaign.reply_working_days)
    _set_deadline(suggestion, min(due, suggestion.reply_due_on) if suggestion.reply_due_on else due)
    audit.record(None, "suggestion.threshold", suggestion, body_id=campaign.body_id,
                 supports=suggestion.support_count, due=suggestion.reply_due_on.isoformat())
    return True


def _shown(day: date) -> str:
    """A deadline in a message, written as the page writes it (``localdate``: 2027-01-11)."""
    return format_date(day, "yyyy-MM-dd")


def extensions_this_round(suggestion: Suggestion) -> list[DeadlineExtension]:
    """The extensions of the current reply round (a reopened proposal starts a new one)."""
    return [e for e in suggestion.extensions
            if suggestion.reopened_at is None or e.created_at >= suggestion.reopened_at]


@dataclass(frozen=True)
class DeadlineEvent:
    """One line of a proposal's deadline history: ``kind`` is "transfer", "extension" or "reopened"; ``record``
    the Transfer or DeadlineExtension (None for a reopening, whose ``new_due_on`` is the fresh round's deadline)."""
    when: datetime
    kind: str
    record: object = None
    new_due_on: date | None = None


def deadline_history(suggestion: Suggestion) -> list[DeadlineEvent]:
    """Transfers, extensions and a reopening, oldest first: what moved the deadline a reader sees, in one list."""
    events = [DeadlineEvent(t.created_at, "transfer", t) for t in suggestion.transfers]
    events += [DeadlineEvent(e.created_at, "extension", e) for e in suggestion.extensions]
    if suggestion.reopened_at is not None:
        later = [e for e in suggestion.extensions if e.created_at >= suggestion.reopened_at]
        events.append(DeadlineEvent(suggestion.reopened_at, "reopened",
                                    new_due_on=later[0].previous_due_on if later else suggestion.reply_due_on))
    return sorted(events, key=lambda event: event.when)


def latest_extension_date(suggestion: Suggestion) -> date:
    """The latest deadline one extension may set: the campaign's maximum working days after the current one."""
    return add_working_days(suggestion.reply_due_on, suggestion.campaign.max_extension_working_days)


def extend_deadline(actor: User, suggestion: Suggestion, new_due_on: date, reason: str,
                    on: date | None = None) -> DeadlineExtension:
    """Staff of the handling body move the reply deadline later, saying why, before it has passed and within
    the campaign's bounds (how many extensions, how many working days each); the extension is public."""
    on = on or today()
    if not can_handle(actor, suggestion):
        raise NotAllowed(_l("Only staff of the responsible body may do this."))
    if suggestion.status not in AWAITING_REPLY or suggestion.reply_due_on is None:
        raise Conflict(_l("Only a proposal accepted and not yet replied to has a deadline to extend."))
    campaign = suggestion.campaign
    if len(extensions_this_round(suggestion)) >= campaign.max_extensions:
        raise Conflict(_l("This campaign allows %(n)d extension(s) per proposal, and none is left.",
                          n=campaign.max_extensions))
    if suggestion.reply_due_on < on:
        raise Conflict(_l("The deadline passed on %(date)s: an overdue proposal's deadline can no longer be "
                          "extended. Please reply.", date=_shown(suggestion.reply_due_on)))
    reason = clean_text(reason, field=_l("Reason"), max_length=500)
    if new_due_on <= on:
        raise InvalidInput(_l("The new deadline must be a date in the future."))
    if new_due_on <= suggestion.reply_due_on:
        raise InvalidInput(_l("The new deadline must be later than the current one (%(date)s).",
                              date=_shown(suggestion.reply_due_on)))
    latest = latest_extension_date(suggestion)
    if new_due_on > latest:
        raise InvalidInput(_l("An extension may add at most %(n)d working days: the latest new deadline is "
                              "%(date)s.", n=campaign.max_extension_working_days, date=_shown(latest)))
    extension = DeadlineExtension(actor_id=actor.id, previous_due_on=suggestion.reply_due_on,
                                  new_due_on=new_due_on, reason=reason, created_at=utcnow())
    suggestion.extensions.append(extension)  # so that the next count in this transaction sees it
    suggestion.reply_due_on = new_due_on
    audit.record(actor, "suggestion.extend_deadline", suggestion, body_id=suggestion.campaign.body_id,
                 previous=extension.previous_due_on.isoformat(), new=new_due_on.isoformat(), reason=reason)
    return extension


def is_overdue(suggestion: Suggestion, on: date | None = None) -> bool:
    return (suggestion.status in AWAITING_REPLY and suggestion.reply_due_on is not None
            and suggestion.reply_due_on < (on or today()))


def _handling_body():
    return sa.func.coalesce(Suggestion.handling_body_id, Campaign.body_id)


def awaiting_reply_query(body_ids: set[int], *, overdue_on: date | None = None,
                         due_by: date | None = None) -> sa.Select:
    """Accepted proposals of the bodies still awaiting their reply: overdue (due before ``overdue_on``) or due
    by ``due_by``; soonest deadline first."""
    query = (sa.select(Suggestion).join(Campaign, Campaign.id == Suggestion.campaign_id)
             .where(Suggestion.status.in_(AWAITING_REPLY), Suggestion.reply_due_on.is_not(None),
                    _handling_body().in_(body_ids))
             .options(joinedload(Suggestion.campaign), joinedload(Suggestion.category)))
    if overdue_on is not None:
        query = query.where(Suggestion.reply_due_on < overdue_on)
    if due_by is not None:
        query = query.where(Suggestion.reply_due_on <= due_by)
    return query.order_by(Suggestion.reply_due_on, Suggestion.id)


class Timeliness(NamedTuple):
    """One body's proposals awaiting its reply: how many, how many are past the deadline first set and past
    the final (extended) one, and how many were extended."""
    body: Body
    awaiting: int
    overdue_first: int
    overdue_final: int
    extended: int


def overdue_by_body(on: date | None = None) -> list[Timeliness]:
    """Every body with proposals awaiting its reply; most overdue against the first deadline first (an
    extension cannot move a body down the list)."""
    on = on or today()
    body_id = _handling_body().label("body_id")
    first = sa.func.coalesce(Suggestion.first_reply_due_on, Suggestion.reply_due_on)

    def count(condition):
        return sa.func.sum(sa.case((condition, 1), else_=0))
    rows = db.session.execute(
        sa.select(body_id, sa.func.count(), count(first < on), count(Suggestion.reply_due_on < on),
                  count(Suggestion.reply_due_on > first))
        .select_from(Suggestion).join(Campaign, Campaign.id == Suggestion.campaign_id)
        .where(Suggestion.status.in_(AWAITING_REPLY), Suggestion.reply_due_on.is_not(None))
        .group_by(body_id)).all()
    bodies = {b.id: b for b in db.session.scalars(sa.select(Body).where(Body.id.in_([r[0] for r in rows])))}
    result = [Timeliness(bodies[r[0]], *(int(n or 0) for n in r[1:])) for r in rows]
    return sorted(result, key=lambda t: (-t.overdue_first, -t.overdue_final, -t.awaiting, t.body.id))


def queue_reminders(due_soon_days: int, on: date | None = None) -> int:
    """Queue one reminder per body with overdue or soon-due replies, at most once a day per body, to the body's
    contact address; returns how many were queued."""
    on = on or today()
    due_by = add_working_days(on, due_soon_days)
    queued = 0
    for body in db.session.scalars(sa.select(Body).where(Body.contact_email != "")):
        waiting = db.session.scalars(awaiting_reply_query({body.id}, due_by=due_by)).all()
        if not waiting:
            continue
        lines = [f"{'已超期' if s.reply_due_on < on else '即将到期'}  {s.reply_due_on.isoformat()}  "
                 f"#{s.id} {mask_personal_data(s.title)}" for s in waiting]  # mail is forwarded
        overdue = sum(1 for s in waiting if s.reply_due_on < on)
        subject = f"【建言】{body.name}：{overdue} 件建议答复已超期，{len(waiting) - overdue} 件即将到期"
        text = (f"{body.name}：\n\n以下建议的答复期限已到或将在 {due_soon_days} 个工作日内到期"
                f"（截至 {on.isoformat()}）：\n\n" + "\n".join(lines) + "\n\n请登录建言平台办理。\n")
        if queue_mail(body.contact_email, subject, text, dedupe_key=f"reminder:{body.id}:{on.isoformat()}"):
            queued += 1
    return queued


@jobs.periodic(cron="30 0 * * *")  # 08:30 in Beijing
@jobs.job(queue="batch", when_queue_down="later")
def send_reminders() -> None:
    """Job: queue the day's reminders (``queue_reminders``; one per body and day, so running twice sends one) and
    have them delivered."""
    queued = queue_reminders(current_app.config["DUE_SOON_WORKING_DAYS"])
    db.session.commit()
    if queued:
        jobs.enqueue(deliver_outbox)
