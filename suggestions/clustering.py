"""Near-duplicate proposals in the database: campaign clustering (copies, then joined by issue) and placement.

The similarity engine is ``suggestions.dedup`` (pure: texts in, results out). This module feeds it a
campaign's public proposals and has its results stored as ``Cluster`` and ``ClusterMember`` rows
(``suggestions.cluster_rows``) and each proposal's related proposals (``suggestions.related``), honouring the
staff's decisions (``ClusterPin``, made in ``suggestions.cluster_decisions``) so that no batch run undoes them.
Votes never move: a cluster shows the distinct citizens who supported any of its members.
"""
import dataclasses
from collections.abc import Callable

import numpy as np
import sqlalchemy as sa
from flask import current_app

from campaigns.models import Campaign, CampaignStatus
from core import audit, jobs
from core.extensions import db
from suggestions import dedup, issue_groups, issue_model, issue_words, places, related, similar, similarity_index
from suggestions.cluster_rows import refresh_cluster, save_clusters
from suggestions.dedup_scale import map_in_slices
from suggestions.issue_text_words import Text
from suggestions.models import Cluster, ClusterMember, ClusterPin, PinKind, Suggestion
from suggestions.same_issue import issue_probabilities

# --- clusters --------------------------------------------------------------------------------------------------

def _pins(campaign_id: int, present: set[int]) -> dedup.Pins:
    """The staff's decisions for the proposals still present, as the engine takes them."""
    pins = db.session.scalars(sa.select(ClusterPin).where(ClusterPin.campaign_id == campaign_id)
                              .order_by(ClusterPin.id)).all()
    groups = _UnionFind()
    apart, representatives = set(), set()
    for pin in pins:
        if pin.suggestion_id not in present or (pin.other_id is not None and pin.other_id not in present):
            continue
        if pin.kind == PinKind.TOGETHER:
            groups.union(pin.suggestion_id, pin.other_id)
        elif pin.kind == PinKind.APART:
            apart.add((pin.suggestion_id, pin.other_id))
        elif pin.kind == PinKind.REPRESENTATIVE:
            representatives.add(pin.suggestion_id)
    return dedup.Pins(together=groups.groups(), apart=sorted(apart), representatives=sorted(representatives))


class _UnionFind:
    def __init__(self):
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)

    def groups(self) -> list[list[int]]:
        by_root: dict[int, list[int]] = {}
        for x in self.parent:
            by_root.setdefault(self.find(x), []).append(x)
        return [sorted(g) for g in by_root.values() if len(g) > 1]


def cluster_campaign(campaign: Campaign, progress: Callable[[str], None] | None = None, processes: int = 1) -> int:
    """Cluster every public proposal of the campaign anew, honouring staff decisions; returns how many
    clusters have two or more members. Clusters keep their id (and confirmation) while their representative
    stays the same. A large campaign is read and scored in ``processes`` forked processes (the stored result is
    the same for any number)."""
    say = progress or (lambda _step: None)
    rows = similarity_index.public_rows(campaign.id)
    say(f"{len(rows)} proposals read")
    if processes > 1:  # jieba (masking, words, keywords) and OpenCC loaded once here, shared by forked processes
        dedup.load_keyword_tools()
        dedup.normalise("預熱")
    titles_and_bodies = [(row.title, row.body) for row in rows]
    texts = map_in_slices(_texts_of, titles_and_bodies, processes, _PROPOSALS_A_TASK)
    items = [(row.id, text, row.author_id) for row, text in zip(rows, texts, strict=True)]
    pins = _pins(campaign.id, {row.id for row in rows})
    found = dedup.cluster(items, pins=pins, neighbours=similar.SIMILAR_LIMIT, neighbour_floor=similar.HINT_FLOOR,
                          n_jobs=processes) if items else dedup.Clustering()
    by_issue = bool(items) and _groups_by_issue(len(items))
    if items and current_app.config["ISSUE_GROUPING"] and not by_issue:
        current_app.logger.warning("campaign %s: %d proposals, more than ISSUE_GROUPING_MAX_PROPOSALS: clustered "
                                   "by copies only", campaign.id, len(items))
    if by_issue:
        issue_texts = map_in_slices(_issue_texts_of, titles_and_bodies, processes, _PROPOSALS_A_TASK)
        members, candidates = _by_issue(campaign.id, rows, issue_texts, found, pins, processes)
        del issue_texts
    else:
        members, candidates = found.members, []
    del titles_and_bodies
    say("similarity computed")
    related.replace_related(campaign.id, found.neighbours)
    groups: dict[int, list[dedup.Member]] = {}
    for member in members:
        groups.setdefault(member.cluster, []).append(member)
    multi = save_clusters(campaign.id, groups, {row.id: text for row, text in zip(rows, texts, strict=True)},
                          candidates, processes)
    say("clusters saved")
    audit.record(None, "clusters.rebuild", campaign, body_id=campaign.body_id, proposals=len(rows),
                 clusters=multi, by_issue=by_issue)
    return multi


_PROPOSALS_A_TASK = 5_000  # proposals a forked process masks at a time


def _texts_of(titles_and_bodies: list[tuple[str, str]]) -> list[str]:
    return [similarity_index.text_of(title, body) for title, body in titles_and_bodies]


def _issue_texts_of(titles_and_bodies: list[tuple[str, str]]) -> list[Text]:
    return [similar.issue_text(title, body) for title, body in titles_and_bodies]


def _by_issue(campaign_id: int, rows, texts: list[Text], found: dedup.Clustering, pins: dedup.Pins,
              processes: int) -> tuple[list[dedup.Member], list[issue_groups.Candidate]]:
    """The copies clustering with its groups joined where they are the same issue (``issue_groups``; ``texts``:
    each row's ``similar.issue_text``): a member whose copy group was joined to the representative's has kind
    "same_issue" and the link's probability. Also the merge candidates for staff, named by proposal ids."""
    row_of = {row.id: r for r, row in enumerate(rows)}
    words = issue_words.words_for(campaign_id, [row.id for row in rows], texts, n_jobs=processes)
    grouping = issue_groups.join_issues(
        texts, [row_of[m.cluster] for m in found.members], found.pairs, issue_model.current_model(), words=words,
        apart=[(row_of[a], row_of[b]) for a, b in pins.apart],
        pinned_representatives=[row_of[x] for x in pins.representatives], n_jobs=processes)
    members = []
    for r, member in enumerate(found.members):
        representative = rows[grouping.representative[r]].id
        if representative == member.id:
            members.append(dedup.Member(member.id, member.id, "representative", 1.0))
        elif grouping.joined_by[r] is None:  # in the representative's own copy group
            members.append(dedup.Member(member.id, representative, member.kind, member.score))
        else:
            kind = "pinned" if member.kind == "pinned" else "same_issue"
            members.append(dedup.Member(member.id, representative, kind, grouping.joined_by[r]))
    candidates = [dataclasses.replace(c, group=rows[c.group].id, other_group=rows[c.other_group].id,
                                      a=rows[c.a].id, b=rows[c.b].id) for c in grouping.candidates]
    return members, candidates


def leave_cluster(suggestion: Suggestion) -> None:
    """A proposal that stopped being public (hidden, withdrawn, rejected) leaves its cluster, so that sizes,
    supporter counts, keywords and representatives count public proposals only, and its kept words go
    (``issue_words``). When it was the representative, the closest remaining member stands in; publishing or
    unhiding it later places it again."""
    issue_words.forget_words(suggestion.id)
    member = db.session.get(ClusterMember, suggestion.id)
    if member is None:
        return
    cluster = member.cluster
    db.session.delete(member)
    db.session.flush()
    remaining = db.session.scalars(sa.select(ClusterMember).where(ClusterMember.cluster_id == cluster.id)
                                   .order_by(ClusterMember.score.desc(), ClusterMember.suggestion_id)).all()
    if remaining and cluster.representative_id == suggestion.id:
        cluster.representative_id, remaining[0].kind = remaining[0].suggestion_id, "representative"
    refresh_cluster(cluster)  # no member left: size 0, listed nowhere; the next batch run removes it


def place_after_submit(suggestion: Suggestion) -> None:
    """For the web form, the API and moderation, after the submission (or the publication, or the unhiding) is
    committed: have the proposal's related proposals stored and its place in its campaign's clusters found, by a
    job (at once on the embedded default). A failure only delays it to the next batch."""
    if suggestion.is_public:
        jobs.enqueue(place_proposal, suggestion.id)


@jobs.job()
def place_proposal(suggestion_id: int) -> None:
    """Job: store a public proposal's related proposals, place it in its campaign's clusters and keep its words for
    the next clustering (``issue_words``). Safe to run twice: the related list is rewritten, a placed proposal
    stays where it is and kept words are kept once."""
    suggestion = db.session.get(Suggestion, suggestion_id)
    if suggestion is None or not suggestion.is_public:
        return
    related.store_related(suggestion)
    place_new(suggestion)
    if current_app.config["ISSUE_GROUPING"]:
        issue_words.keep_words(suggestion.id, similar.issue_text(suggestion.title, suggestion.body))
    db.session.commit()


@jobs.job(queue="batch", when_queue_down="later", once=True)
def recluster_campaign(campaign_id: int) -> None:
    """Job: cluster a campaign's public proposals anew (staff decisions kept), as ``flask suggestions cluster``,
    and save a fresh similarity index of it (idf refitted on every proposal)."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        return
    clusters = cluster_campaign(campaign, processes=current_app.config["CLUSTER_PROCESSES"])
    db.session.commit()
    current_app.logger.info("campaign %s: %d clusters of two or more proposals", campaign_id, clusters)
    try:
        similarity_index.save_campaign_index(campaign_id)
    except OSError as error:  # the clustering is committed; hints keep the index they have
        current_app.logger.warning("similarity index of campaign %s not saved: %s", campaign_id, error)


@jobs.periodic(cron="0 18 * * *")  # 02:00 in Beijing
@jobs.job(queue="batch", when_queue_down="later")
def recluster_open_campaigns() -> None:
    """Job: queue a re-clustering of every open campaign (nightly: a campaign clustered for the first time, and
    whatever incremental placement missed)."""
    ids = db.session.scalars(sa.select(Campaign.id).where(Campaign.status == CampaignStatus.OPEN)
                             .order_by(Campaign.id)).all()
    db.session.rollback()
    for campaign_id in ids:
        jobs.enqueue(recluster_campaign, campaign_id)


def place_new(suggestion: Suggestion) -> Cluster | None:
    """Put a newly public proposal into its campaign's clustering without a rebuild (same rule as a batch).

    Does nothing for a campaign that was never clustered, or for a proposal already placed."""
    campaign_id = suggestion.campaign_id
    if not suggestion.is_public or db.session.get(ClusterMember, suggestion.id) is not None:
        return None
    if db.session.scalar(sa.select(Cluster.id).where(Cluster.campaign_id == campaign_id).limit(1)) is None:
        return None
    text = similarity_index.text_of(suggestion.title, suggestion.body)
    apart = [pin.other_id if pin.suggestion_id == suggestion.id else pin.suggestion_id
             for pin in db.session.scalars(sa.select(ClusterPin).where(
                 ClusterPin.kind == PinKind.APART,
                 sa.or_(ClusterPin.suggestion_id == suggestion.id, ClusterPin.other_id == suggestion.id)))]
    with similarity_index.campaign_index(campaign_id) as index:
        similarity_index.index_proposal(index, suggestion)
        candidates = [m.id for m in index.query(text, 20, exclude={suggestion.id})]
        # The clusters of the proposals staff keep this one apart from count as candidates' clusters, so that
        # both rules below refuse them wherever those members are (as the batch does).
        membership = dict(db.session.execute(sa.select(ClusterMember.suggestion_id, ClusterMember.cluster_id)
                                             .where(ClusterMember.suggestion_id.in_(candidates + apart))).all())
        representatives = dict(db.session.execute(sa.select(Cluster.id, Cluster.representative_id)
                                                  .where(Cluster.id.in_(set(membership.values())))).all())
        heads = _member_heads(set(membership.values()))
        member = dedup.assign(index, suggestion.id, membership=membership, representatives=representatives,
                              apart=apart, text=text, member_texts=heads)
        by_issue = _groups_by_issue(len(index))
    if member.cluster is None and by_issue and not _is_pinned_representative(suggestion.id):
        member = _same_issue_member(suggestion, {c: membership[c] for c in candidates if c in membership},
                                    {membership[a] for a in apart if a in membership}, heads)
    if member.cluster is None:
        cluster = Cluster(campaign_id=campaign_id, representative_id=suggestion.id, size=1)
        db.session.add(cluster)
        db.session.flush()
        db.session.add(ClusterMember(suggestion_id=suggestion.id, cluster_id=cluster.id, kind="representative"))
    else:
        cluster = db.session.get(Cluster, member.cluster)
        db.session.add(ClusterMember(suggestion_id=suggestion.id, cluster_id=cluster.id, kind=member.kind,
                                     score=member.score))
    db.session.flush()
    refresh_cluster(cluster)
    return cluster


def _groups_by_issue(public_proposals: int) -> bool:
    """Whether a campaign of that many public proposals (as its similarity index counts them) joins its clusters
    by issue, as ``cluster_campaign`` decides: on, and not above ``ISSUE_GROUPING_MAX_PROPOSALS``."""
    settings = current_app.config
    return settings["ISSUE_GROUPING"] and public_proposals <= settings["ISSUE_GROUPING_MAX_PROPOSALS"]


def _is_pinned_representative(suggestion_id: int) -> bool:
    """A representative staff chose keeps its own cluster until they merge it (the batch joins no two)."""
    return db.session.scalar(sa.select(ClusterPin.id).where(ClusterPin.kind == PinKind.REPRESENTATIVE,
                                                            ClusterPin.suggestion_id == suggestion_id)) is not None


def _same_issue_member(suggestion: Suggestion, membership: dict[int, int], blocked: set[int],
                       heads: dict[int, list[str]]) -> dedup.Member:
    """For a proposal that copies no cluster: the cluster of the candidate (``membership``: candidate → cluster)
    the same-issue model finds most likely one issue with it (at least the model's threshold), as the nightly
    batch would join it, unless staff keep the proposal apart from one of that cluster's members (``blocked``) or
    one of the members there (``heads``) names a place of the same kind under another name. Kind "same_issue"."""
    ids = list(membership)
    candidates = db.session.scalars(sa.select(Suggestion).where(Suggestion.id.in_(ids))).all() if ids else []
    model = issue_model.current_model()
    probability = issue_probabilities(
        similar.issue_text(suggestion.title, suggestion.body),
        [similar.issue_text(c.title, c.body) for c in candidates],
        model, paths=False)  # each pair's own: a path could go through a candidate refused below
    own_places = places.Places.of(similarity_index.text_of(suggestion.title, suggestion.body))
    for k in np.argsort(-probability, kind="stable").tolist():
        p, cluster_id = float(probability[k]), membership[candidates[k].id]
        if p < model.threshold:
            break
        if cluster_id in blocked or (own_places.names and any(
                own_places.conflicts(places.Places.of(head)) for head in heads.get(cluster_id, ()))):
            continue
        return dedup.Member(suggestion.id, cluster_id, "same_issue", p)
    return dedup.Member(suggestion.id, None, "representative", 1.0)


MEMBER_HEADS = 1000
"""Members per candidate cluster whose start a proposal placed on its own is checked against (the places they
name); the nightly re-clustering checks every member."""


def _member_heads(cluster_ids: set[int]) -> dict[int, list[str]]:
    """The first characters (``places.CONFLICT_HEAD``, with a margin) of up to MEMBER_HEADS members' texts of each
    cluster, most supported first."""
    head = places.CONFLICT_HEAD + 20
    ranked = (sa.select(ClusterMember.cluster_id, sa.func.substr(Suggestion.title, 1, head).label("title"),
                        sa.func.substr(Suggestion.body, 1, head).label("body"),
                        sa.func.row_number().over(partition_by=ClusterMember.cluster_id,
                                                  order_by=Suggestion.support_count.desc()).label("rank"))
              .join(Suggestion, Suggestion.id == ClusterMember.suggestion_id)
              .where(ClusterMember.cluster_id.in_(cluster_ids)).subquery())
    heads: dict[int, list[str]] = {}
    for row in db.session.execute(sa.select(ranked).where(ranked.c.rank <= MEMBER_HEADS)):
        heads.setdefault(row.cluster_id, []).append(similarity_index.text_of(row.title, row.body))
    return heads
