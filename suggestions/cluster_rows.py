"""A campaign's stored clusters: a batch's rows written in place of the stored ones, each cluster's distinct
supporters and its keywords (``suggestions.clustering`` decides what the clusters are; this module stores them)."""
import hashlib

import sqlalchemy as sa

from core.chinese import segmenter_versions
from core.extensions import db
from suggestions import dedup, issue_groups, similarity_index
from suggestions.dedup_scale import map_in_slices
from suggestions.models import Cluster, ClusterMember, IssueCandidate, Suggestion, Vote

_CLUSTERS_A_TASK = 1_000  # clusters a forked process draws keywords for at a time

_BATCH = 5_000


def save_clusters(campaign_id: int, groups: dict[int, list[dedup.Member]], texts: dict[int, str],
                  candidates: list[issue_groups.Candidate], processes: int = 1) -> int:
    """Store a campaign's clustering (``groups``: representative → members) in place of the stored one, with its
    merge candidates; returns how many clusters have two or more members. Keywords are drawn in ``processes``.

    A cluster keeps its row (id, confirmation, outcome links) while its representative stays the same; the
    keywords of a cluster of two or more are drawn again unless its ``keywords_digest`` (its members' texts and
    ``KEYWORDS_VERSION``) is what it was when they were drawn: a new member, an edited text or a new version of
    ``dedup.keywords`` draws them again. Rows
    are written a batch at a time, not as ORM objects: at 100,000 proposals, adding and flushing one new cluster at
    a time took about a third of ``flask suggestions cluster``."""
    db.session.flush()
    db.session.execute(sa.delete(IssueCandidate).where(IssueCandidate.campaign_id == campaign_id))
    in_campaign = sa.select(Cluster.id).where(Cluster.campaign_id == campaign_id)
    existing = {row.representative_id: row for row in db.session.execute(
        sa.select(Cluster.representative_id, Cluster.id, Cluster.size, Cluster.keywords_digest)
        .where(Cluster.campaign_id == campaign_id))}
    db.session.execute(sa.delete(ClusterMember).where(ClusterMember.cluster_id.in_(in_campaign)))
    stale = [existing[r].id for r in set(existing) - set(groups)]
    for start in range(0, len(stale), _BATCH):
        db.session.execute(sa.delete(Cluster).where(Cluster.id.in_(stale[start:start + _BATCH])))
    new = [{"campaign_id": campaign_id, "representative_id": r, "size": len(m)}
           for r, m in groups.items() if r not in existing]
    _execute_in_batches(sa.insert(Cluster), new)
    cluster_of = dict(db.session.execute(sa.select(Cluster.representative_id, Cluster.id)
                                         .where(Cluster.campaign_id == campaign_id)).all())
    rows = [{"suggestion_id": m.id, "cluster_id": cluster_of[r], "kind": m.kind, "score": m.score}
            for r, members in groups.items() for m in members]
    _execute_in_batches(sa.insert(ClusterMember), rows)
    several = [(representative_id, members) for representative_id, members in groups.items() if len(members) > 1]
    member_texts = [[texts[i] for i in sorted(m.id for m in members)] for _, members in several]
    digests = [keywords_digest(member) for member in member_texts]
    drawn_before = [existing.get(representative_id) is not None
                    and existing[representative_id].keywords_digest == digest
                    for (representative_id, _), digest in zip(several, digests, strict=True)]
    to_draw = [k for k, kept in enumerate(drawn_before) if not kept]
    keywords = map_in_slices(_keywords_of_clusters, [member_texts[k] for k in to_draw], processes, _CLUSTERS_A_TASK)
    described = [{"id": cluster_of[several[k][0]], "size": len(several[k][1]), "keywords": words,
                  "keywords_digest": digests[k]} for k, words in zip(to_draw, keywords, strict=True)]
    redrawn = {several[k][0] for k in to_draw}
    sizes = [{"id": cluster_of[representative_id], "size": len(members)}
             for representative_id, members in groups.items() if representative_id not in redrawn
             and representative_id in existing and existing[representative_id].size != len(members)]
    _execute_in_batches(sa.update(Cluster), described)  # by primary key
    _execute_in_batches(sa.update(Cluster), sizes)
    links = [{"campaign_id": campaign_id, "cluster_id": cluster_of[c.group],
              "other_cluster_id": cluster_of[c.other_group], "suggestion_id": c.a, "other_suggestion_id": c.b,
              "score": c.probability, "why": c.why, "evidence": c.evidence} for c in candidates]
    _execute_in_batches(sa.insert(IssueCandidate), links)
    recount_supporters(campaign_id)  # expires the session's objects, which the statements above went around
    return sum(len(members) > 1 for members in groups.values())


def _execute_in_batches(statement, rows: list[dict]) -> None:
    for start in range(0, len(rows), _BATCH):
        db.session.execute(statement, rows[start:start + _BATCH])


def _distinct_supporters(cluster_id):
    return (sa.select(sa.func.count(sa.distinct(Vote.user_id)))
            .join(ClusterMember, ClusterMember.suggestion_id == Vote.suggestion_id)
            .where(ClusterMember.cluster_id == cluster_id, Vote.value == 1, Vote.held_at.is_(None)).scalar_subquery())


def distinct_supporters(cluster: Cluster) -> int:
    """Citizens who support any member of the cluster, each counted once (read live from the votes)."""
    return db.session.scalar(sa.select(_distinct_supporters(cluster.id))) or 0


def recount_supporters(campaign_id: int | None = None) -> int:
    """Bring every stored ``supporter_count`` (used to order cluster lists) up to date, or those of one campaign;
    returns how many changed.

    Votes do not touch the cluster row (a hot row under many votes); this runs with ``flask suggestions
    recount`` and after moderators hold or release votes, and each batch or placement refreshes the clusters it
    changes."""
    live = _distinct_supporters(Cluster.id)
    scope = [Cluster.campaign_id == campaign_id] if campaign_id is not None else []
    result = db.session.execute(sa.update(Cluster).where(Cluster.supporter_count != live, *scope)
                                .values(supporter_count=live).execution_options(synchronize_session=False))
    db.session.expire_all()
    return result.rowcount


def refresh_cluster(cluster: Cluster) -> None:
    """Recompute a cluster's size, distinct supporters and keywords from its members."""
    member_ids = list(db.session.scalars(sa.select(ClusterMember.suggestion_id)
                                         .where(ClusterMember.cluster_id == cluster.id)))
    cluster.size = len(member_ids)
    cluster.supporter_count = distinct_supporters(cluster)
    texts = [similarity_index.text_of(s.title, s.body) for s in db.session.scalars(
        sa.select(Suggestion).where(Suggestion.id.in_(member_ids)).order_by(Suggestion.id))]
    cluster.keywords, cluster.keywords_digest = _keywords_of(texts), keywords_digest(texts)


KEYWORDS_VERSION = "1"
"""Part of ``keywords_digest`` (with jieba's and OpenCC's versions): raise it when ``dedup.keywords`` would draw
other words from the same texts (its filters, stop words, place names), so that the next batch draws every
cluster's again."""


def keywords_digest(texts: list[str]) -> str:
    """What a cluster's keywords are drawn from: its members' texts (masked, in id order) and how they are drawn."""
    key = "\x1f".join([KEYWORDS_VERSION, segmenter_versions(), *texts])
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


def _keywords_of_clusters(member_texts: list[list[str]]) -> list[str]:
    return [_keywords_of(texts) for texts in member_texts]


def _keywords_of(texts: list[str]) -> str:
    """A cluster's stored keywords. They are public (lists, dashboard, exports, API): ``texts`` are the members' own
    with personal data masked (``similarity_index.text_of``)."""
    return " ".join(dedup.keywords(texts))[:200]
