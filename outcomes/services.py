"""Recording outcomes: every action is authorised against the body it concerns and audit-logged."""
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from accounts.models import Body, User
from accounts.permissions import can_act_for_body
from core import audit
from core.errors import Conflict, InvalidInput, NotAllowed
from core.extensions import db
from core.text import clean_text
from outcomes.models import Milestone, PolicyOutcome, Stage, outcome_clusters, outcome_suggestions
from suggestions.handling import can_handle
from suggestions.models import Cluster, ClusterMember, Suggestion


def _require_staff_of(actor: User, body_id: int) -> None:
    if not can_act_for_body(actor, body_id):
        raise NotAllowed(_l("Only staff of the responsible body may do this."))


def _checked(*, title: str, document_name: str, document_number: str, link: str, clause: str, stage: str,
             progress: int | None) -> dict:
    if stage not in Stage.__members__.values():
        raise InvalidInput(_l("Choose a stage."))
    if progress is None or not 0 <= progress <= 100:
        raise InvalidInput(_l("Progress is a percentage from 0 to 100."))
    link = clean_text(link, field=_l("Link"), max_length=500, min_length=0)
    if link and not link.startswith(("http://", "https://")):
        raise InvalidInput(_l("The link must start with http:// or https://."))
    return {"title": clean_text(title, field=_l("Title"), max_length=200),
            "document_name": clean_text(document_name, field=_l("Document"), max_length=200, min_length=0),
            "document_number": clean_text(document_number, field=_l("Document number"), max_length=100,
                                          min_length=0),
            "link": link, "clause": clean_text(clause, field=_l("Clause"), max_length=5000, min_length=0,
                                                  multiline=True),
            "stage": stage, "progress": progress}


def create_outcome(actor: User, body: Body, *, issued_on: date | None = None, **fields) -> PolicyOutcome:
    """Record a policy outcome issued by ``body`` (staff of that body)."""
    _require_staff_of(actor, body.id)
    outcome = PolicyOutcome(issuing_body=body, issued_on=issued_on, created_by_id=actor.id, **_checked(**fields))
    db.session.add(outcome)
    db.session.flush()
    audit.record(actor, "outcome.create", outcome, body_id=body.id, stage=outcome.stage, progress=outcome.progress)
    return outcome


def update_outcome(actor: User, outcome: PolicyOutcome, *, issued_on: date | None = None, **fields) -> None:
    """Change an outcome's details, stage or progress."""
    _require_staff_of(actor, outcome.issuing_body_id)
    previous = (outcome.stage, outcome.progress)
    for name, value in _checked(**fields).items():
        setattr(outcome, name, value)
    outcome.issued_on = issued_on
    audit.record(actor, "outcome.update", outcome, body_id=outcome.issuing_body_id, previous_stage=previous[0],
                 previous_progress=previous[1], stage=outcome.stage, progress=outcome.progress)


def add_milestone(actor: User, outcome: PolicyOutcome, happened_on: date | None, title: str,
                  note: str = "") -> Milestone:
    _require_staff_of(actor, outcome.issuing_body_id)
    if happened_on is None:
        raise InvalidInput(_l("Give the milestone's date."))
    milestone = Milestone(outcome=outcome, happened_on=happened_on,
                          title=clean_text(title, field=_l("Milestone"), max_length=200),
                          note=clean_text(note, field=_l("Note"), max_length=2000, min_length=0, multiline=True))
    db.session.add(milestone)
    audit.record(actor, "outcome.milestone", outcome, body_id=outcome.issuing_body_id,
                 happened_on=happened_on.isoformat(), title=milestone.title)
    return milestone


def link_suggestion(actor: User, outcome: PolicyOutcome, suggestion: Suggestion | None) -> None:
    """Link a proposal the outcome came from: the actor must handle both the outcome and the proposal."""
    _require_staff_of(actor, outcome.issuing_body_id)
    if suggestion is None or not suggestion.is_public:
        raise InvalidInput(_l("No public proposal has that number."))
    if not can_handle(actor, suggestion):
        raise NotAllowed(_l("Only staff of the body handling that proposal may link it."))
    if suggestion in outcome.suggestions:
        raise Conflict(_l("That proposal is already linked."))
    outcome.suggestions.append(suggestion)
    audit.record(actor, "outcome.link", outcome, body_id=outcome.issuing_body_id, suggestion=suggestion.id)


def link_cluster(actor: User, outcome: PolicyOutcome, cluster: Cluster | None) -> None:
    """Link a cluster of proposals (an idea with its combined support) to the outcome."""
    _require_staff_of(actor, outcome.issuing_body_id)
    if cluster is None:
        raise InvalidInput(_l("No cluster has that number."))
    _require_staff_of(actor, cluster.campaign.body_id)
    if cluster in outcome.clusters:
        raise Conflict(_l("That cluster is already linked."))
    outcome.clusters.append(cluster)
    audit.record(actor, "outcome.link_cluster", outcome, body_id=outcome.issuing_body_id, cluster=cluster.id)


def outcomes_query(*, body_id: int | None = None, campaign_id: int | None = None) -> sa.Select:
    """Outcomes of a body, or fed by a campaign's proposals, newest first."""
    query = sa.select(PolicyOutcome)
    if body_id is not None:
        query = query.where(PolicyOutcome.issuing_body_id == body_id)
    if campaign_id is not None:
        links = outcome_suggestions.c
        query = query.where(PolicyOutcome.id.in_(
            sa.select(links.outcome_id).join(Suggestion, Suggestion.id == links.suggestion_id)
            .where(Suggestion.campaign_id == campaign_id)))
    return query.order_by(PolicyOutcome.created_at.desc(), PolicyOutcome.id.desc())




def outcomes_of(suggestion: Suggestion) -> list[PolicyOutcome]:
    """The outcomes a proposal fed, directly or through its cluster."""
    cluster_ids = sa.select(ClusterMember.cluster_id).where(ClusterMember.suggestion_id == suggestion.id)
    return list(db.session.scalars(sa.select(PolicyOutcome).where(sa.or_(
        PolicyOutcome.id.in_(sa.select(outcome_suggestions.c.outcome_id)
                             .where(outcome_suggestions.c.suggestion_id == suggestion.id)),
        PolicyOutcome.id.in_(sa.select(outcome_clusters.c.outcome_id)
                             .where(outcome_clusters.c.cluster_id.in_(cluster_ids))))).order_by(PolicyOutcome.id)))
