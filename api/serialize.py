"""Plain-JSON views of public records. Free text passes through ``mask_personal_data``; no author identity."""
from datetime import date, datetime

from flask import url_for

from accounts.models import Body
from campaigns.models import Campaign, Category
from core.models import utcnow
from core.privacy import mask_personal_data
from outcomes.models import Milestone, PolicyOutcome
from suggestions.models import Cluster, ClusterMember, Reply, Suggestion


def _time(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _text(value: str | None, official: bool = False) -> str:
    return mask_personal_data(value or "", official=official)


def body_ref(body: Body | None) -> dict | None:
    if body is None:
        return None
    return {"id": body.id, "name": body.name, "name_en": body.name_en}


def body(body: Body) -> dict:
    return {**body_ref(body), "kind": body.kind, "level": body.level, "region": body.region,
            "parent_id": body.parent_id}


def category(category: Category) -> dict:
    return {"code": category.code, "name": category.name, "name_en": category.name_en}


def campaign(campaign: Campaign, closing_soon_days: int) -> dict:
    return {"id": campaign.id, "title": _text(campaign.title), "theme": _text(campaign.theme),
            "description": _text(campaign.description), "region_scope": campaign.region_scope,
            "body": body_ref(campaign.body), "status": campaign.status,
            "phase": str(campaign.phase(utcnow(), closing_soon_days)),
            "opens_at": _time(campaign.opens_at), "closes_at": _time(campaign.closes_at),
            "allow_oppose": campaign.allow_oppose, "screening": campaign.screening,
            "reply_working_days": campaign.reply_working_days, "support_threshold": campaign.support_threshold,
            "categories": [category(c) for c in campaign.categories],
            "url": url_for("campaigns.detail", campaign_id=campaign.id)}


def proposal_ref(suggestion: Suggestion) -> dict:
    return {"id": suggestion.id, "title": _text(suggestion.title), "status": suggestion.status,
            "support_count": suggestion.support_count}


def proposal(suggestion: Suggestion) -> dict:
    return {"id": suggestion.id, "campaign_id": suggestion.campaign_id, "category": category(suggestion.category),
            "message_type": suggestion.message_type, "title": _text(suggestion.title),
            "body": _text(suggestion.body), "status": suggestion.status,
            "support_count": suggestion.support_count, "oppose_count": suggestion.oppose_count,
            "handling_body": body_ref(suggestion.handling_body), "created_at": _time(suggestion.created_at),
            "published_at": _time(suggestion.published_at), "accepted_at": _time(suggestion.accepted_at),
            "replied_at": _time(suggestion.replied_at), "closed_at": _time(suggestion.closed_at),
            "reply_due_on": _time(suggestion.reply_due_on),
            "url": url_for("suggestions.detail", suggestion_id=suggestion.id)}


def reply(reply: Reply) -> dict:
    rating = reply.rating
    return {"id": reply.id, "body": body_ref(reply.body), "decision": reply.decision,
            "content": "" if reply.hidden_at else _text(reply.content, official=True),
            "created_at": _time(reply.created_at),
            "rating": None if rating is None else {"satisfaction": rating.satisfaction,
                                                   "reasons": rating.reason_codes,
                                                   "comment": _text(rating.comment)}}


def proposal_detail(suggestion: Suggestion, cluster_id: int | None, outcome_ids: list[int]) -> dict:
    return {**proposal(suggestion), "replies": [reply(r) for r in suggestion.replies],
            "cluster_id": cluster_id, "outcome_ids": outcome_ids}


def public_keywords(cluster: Cluster, member_texts: list[str]) -> list[str]:
    """The cluster's keywords that appear in its public members' masked text: a keyword drawn from personal
    data (a phone number, a piece of an e-mail address) is left out."""
    masked = "\n".join(_text(text) for text in member_texts)
    return [word for word in cluster.keywords.split() if word in masked]


def cluster(cluster: Cluster, representative: Suggestion, keywords: list[str]) -> dict:
    return {"id": cluster.id, "campaign_id": cluster.campaign_id, "size": cluster.size,
            "supporter_count": cluster.supporter_count, "keywords": keywords,
            "confirmed": cluster.confirmed_at is not None, "representative": proposal_ref(representative),
            "url": url_for("clusters.page", cluster_id=cluster.id)}


def cluster_detail(cluster_row: Cluster, representative: Suggestion, members: list[ClusterMember],
                   supporters: int) -> dict:
    keywords = public_keywords(cluster_row, [f"{m.suggestion.title}\n{m.suggestion.body}" for m in members])
    return {**cluster(cluster_row, representative, keywords), "supporter_count": supporters,
            "members": [{**proposal_ref(m.suggestion), "kind": m.kind, "score": round(float(m.score), 4)}
                        for m in members]}


def milestone(milestone: Milestone) -> dict:
    return {"happened_on": _time(milestone.happened_on), "title": _text(milestone.title),
            "note": _text(milestone.note)}


def outcome(outcome: PolicyOutcome) -> dict:
    return {"id": outcome.id, "title": _text(outcome.title), "document_name": _text(outcome.document_name),
            "document_number": _text(outcome.document_number), "issuing_body": body_ref(outcome.issuing_body),
            "issued_on": _time(outcome.issued_on), "link": outcome.link, "clause": _text(outcome.clause),
            "stage": outcome.stage, "progress": outcome.progress, "created_at": _time(outcome.created_at),
            "url": url_for("outcomes.detail", outcome_id=outcome.id)}


def outcome_detail(outcome_row: PolicyOutcome, proposals: list[Suggestion], cluster_ids: list[int]) -> dict:
    return {**outcome(outcome_row), "milestones": [milestone(m) for m in outcome_row.milestones],
            "proposals": [proposal_ref(s) for s in proposals], "cluster_ids": cluster_ids}
