"""Related proposals, stored: each public proposal's up to five most similar ones (``RelatedProposal`` rows), so
that a proposal's page reads them in one query and never computes similarity. Written when a proposal becomes
public (``store_related``: its own list, and its place in the lists of those it resembles) and for a whole campaign
by the batch clustering (``replace_related``)."""
import sqlalchemy as sa

from core.database import insert_for
from core.extensions import db
from suggestions.models import RelatedProposal, Suggestion
from suggestions.similar import SIMILAR_LIMIT, similar_proposals
from suggestions.similarity_index import text_of


def related_of(suggestion: Suggestion, limit: int = SIMILAR_LIMIT) -> list[tuple[Suggestion, RelatedProposal]]:
    """The proposal's stored related proposals that are public now, best first (one query)."""
    rows = db.session.execute(
        sa.select(Suggestion, RelatedProposal).join(RelatedProposal, RelatedProposal.related_id == Suggestion.id)
        .where(RelatedProposal.suggestion_id == suggestion.id, Suggestion.public == sa.true())
        .order_by(RelatedProposal.score.desc(), Suggestion.id).limit(limit)).all()
    return [(row[0], row[1]) for row in rows]


def store_related(suggestion: Suggestion) -> int:
    """Write the related proposals of a proposal that just became public, and put it in the lists of the
    proposals it resembles where it beats their weakest; returns how many it was related to. Flushes."""
    matches = similar_proposals(suggestion.campaign_id, text_of(suggestion.title, suggestion.body),
                                exclude=suggestion.id)
    db.session.execute(sa.delete(RelatedProposal).where(RelatedProposal.suggestion_id == suggestion.id))
    lists: dict[int, list[RelatedProposal]] = {other.id: [] for other, _match in matches}
    for row in db.session.scalars(sa.select(RelatedProposal).where(RelatedProposal.suggestion_id.in_(lists))
                                  .order_by(RelatedProposal.score)):
        lists[row.suggestion_id].append(row)
    for other, match in matches:
        _add_related(suggestion.id, other.id, match.score, match.kind)
        _offer(other.id, lists[other.id], suggestion.id, match.score, match.kind)
    db.session.flush()
    return len(matches)


def _add_related(owner_id: int, related_id: int, score: float, kind: str) -> None:
    """Insert one related proposal, or update it when another transaction (the placement of the other proposal,
    at the same moment) has just inserted the same pair."""
    insert = insert_for(db.session, RelatedProposal).values(suggestion_id=owner_id, related_id=related_id,
                                                            score=score, kind=kind)
    db.session.execute(insert.on_conflict_do_update(index_elements=["suggestion_id", "related_id"],
                                                    set_={"score": score, "kind": kind}))


def _offer(owner_id: int, current: list[RelatedProposal], candidate_id: int, score: float, kind: str) -> None:
    """Add ``candidate_id`` to ``owner_id``'s list (``current``, weakest first) if the list has room or its weakest
    entry scores lower."""
    if any(r.related_id == candidate_id for r in current):
        return
    if len(current) >= SIMILAR_LIMIT:
        if current[0].score >= score:
            return
        db.session.delete(current[0])
        db.session.flush()
    _add_related(owner_id, candidate_id, score, kind)


def replace_related(campaign_id: int, neighbours: list[tuple[int, int, float, str]]) -> None:
    """A whole campaign's related lists, as ``dedup.cluster`` found them, in place of the stored ones."""
    db.session.execute(sa.delete(RelatedProposal).where(RelatedProposal.suggestion_id.in_(
        sa.select(Suggestion.id).where(Suggestion.campaign_id == campaign_id))))
    for start in range(0, len(neighbours), 5_000):
        db.session.execute(sa.insert(RelatedProposal), [
            {"suggestion_id": a, "related_id": b, "score": score, "kind": kind}
            for a, b, score, kind in neighbours[start:start + 5_000]])
