"""Who handles a proposal: the lead body and co-handling bodies chosen at acceptance, transfers, and the
routing model's suggestions (staff confirm; the model never routes on its own).

Two routers are trained on the platform's own routed history by ``flask suggestions train-router``: one
suggests the category, one the handling body. They are files in ``ROUTER_DIR`` (``instance/router/``).
"""
import os

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from accounts.models import Body, User
from accounts.permissions import can_act_for_body
from core import audit, jobs
from core.errors import Conflict, InvalidInput, NotAllowed
from core.extensions import db
from core.text import clean_text
from suggestions.models import CoHandler, Status, Suggestion, Transfer
from suggestions.notifications import notify
from suggestions.routing import Router

ROUTER_FILES = {"category": "category.pickle", "body": "body.pickle"}


def can_handle(user: User | None, suggestion: Suggestion) -> bool:
    """Staff of the campaign's body or of the current handling body may act on the proposal."""
    return can_act_for_body(user, suggestion.campaign.body_id) or (
        suggestion.handling_body_id is not None and can_act_for_body(user, suggestion.handling_body_id))


def _body(body_id: int | None) -> Body:
    body = db.session.get(Body, body_id) if body_id else None
    if body is None:
        raise InvalidInput(_l("Choose a body from the list."))
    return body


def assign_handlers(actor: User, suggestion: Suggestion, lead_body_id: int | None,
                    co_body_ids: list[int]) -> None:
    """At acceptance: set the lead handling body (default: the campaign's) and the co-handling bodies."""
    lead = _body(lead_body_id) if lead_body_id else suggestion.campaign.body
    co_bodies = [_body(body_id) for body_id in dict.fromkeys(co_body_ids) if body_id != lead.id]
    suggestion.handling_body_id = lead.id
    suggestion.co_handlers = [CoHandler(body=body) for body in co_bodies]
    if lead.id != suggestion.campaign.body_id or co_bodies:
        audit.record(actor, "suggestion.assign", suggestion, body_id=suggestion.campaign.body_id, lead=lead.id,
                     co_handlers=[b.id for b in co_bodies])


def transfer(actor: User, suggestion: Suggestion, to_body_id: int | None, reason: str) -> Transfer:
    """Hand an accepted proposal to another body, saying why; the transfer is shown publicly."""
    if not can_handle(actor, suggestion):
        raise NotAllowed(_l("Only staff of the responsible body may do this."))
    if suggestion.status != Status.ACCEPTED:
        raise Conflict(_l("Only a proposal accepted and not yet replied to can be transferred."))
    if not to_body_id:
        raise InvalidInput(_l("Choose the body to transfer the proposal to."))
    to_body = _body(to_body_id)
    if to_body.id == suggestion.handling_body_id:
        raise InvalidInput(_l("The proposal is already with this body."))
    reason = clean_text(reason, field=_l("Reason"), max_length=500)
    record = Transfer(suggestion_id=suggestion.id, from_body_id=suggestion.handling_body_id, to_body_id=to_body.id,
                      actor_id=actor.id, reason=reason)
    db.session.add(record)
    suggestion.handling_body_id = to_body.id
    suggestion.co_handlers = [c for c in suggestion.co_handlers if c.body_id != to_body.id]
    audit.record(actor, "suggestion.transfer", suggestion, body_id=suggestion.campaign.body_id,
                 from_body=record.from_body_id, to_body=to_body.id, reason=reason)
    notify(suggestion, "transferred", actor)
    return record


# --- routing suggestions ---------------------------------------------------------------------------------------

def router_path(directory: str, target: str) -> str:
    return os.path.join(directory, ROUTER_FILES[target])


def train_routers(directory: str) -> dict[str, str]:
    """Train and save the category and handling-body routers on the routed proposals; returns, per target,
    "trained on N proposals" or why it could not be trained."""
    rows = db.session.execute(
        sa.select(Suggestion.title, Suggestion.body, Suggestion.category_id, Suggestion.handling_body_id)
        .where(Suggestion.status.in_((Status.ACCEPTED, Status.REPLIED, Status.CLOSED)))).all()
    outcome = {}
    for target, labels in (("category", [str(r.category_id) for r in rows]),
                           ("body", [str(r.handling_body_id or "") for r in rows])):
        try:
            router = Router.train([r.body for r in rows], labels, titles=[r.title for r in rows])
        except ValueError as error:
            outcome[target] = str(error)
            continue
        router.save(router_path(directory, target))
        outcome[target] = f"trained on {sum(1 for label in labels if label)} routed proposals"
    return outcome


@jobs.periodic(cron="0 19 * * *")  # 03:00 in Beijing
@jobs.job(queue="batch", when_queue_down="later", once=True)
def train_routers_job() -> None:
    """Job: retrain the routers (nightly), as ``flask suggestions train-router``. The files go to ``ROUTER_DIR``,
    which every app server must read: a shared folder when the worker runs on another machine."""
    outcome = train_routers(current_app.config["ROUTER_DIR"])
    db.session.rollback()
    current_app.logger.info("routers: %s", outcome)


_routers: dict[str, tuple[float, Router]] = {}


def _router(directory: str, target: str) -> Router | None:
    """The saved router, reloaded when its file changes; None if there is none (or it cannot be read)."""
    path = router_path(directory, target)
    try:
        modified = os.path.getmtime(path)
    except OSError:
        return None
    cached = _routers.get(path)
    if cached is None or cached[0] != modified:
        try:
            cached = _routers[path] = (modified, Router.load(path))
        except (ValueError, OSError):
            return None
    return cached[1]


def routing_suggestions(directory: str, suggestion: Suggestion) -> dict[str, list[tuple[object, float]]]:
    """Up to three suggested categories and handling bodies, with the model's confidence, for staff to confirm."""
    from campaigns.models import Category

    result = {}
    for target, model in (("category", Category), ("body", Body)):
        router = _router(directory, target)
        if router is None:
            continue
        guesses = router.suggest(suggestion.body, suggestion.title, k=3)
        found = {obj.id: obj for obj in db.session.scalars(
            sa.select(model).where(model.id.in_([int(label) for label, _ in guesses if label.isdigit()])))}
        result[target] = [(found[int(label)], confidence) for label, confidence in guesses
                          if label.isdigit() and int(label) in found]
    return result
