"""Staff decisions about clusters: confirm a cluster, choose its representative, move a proposal out, merge two
clusters. Each is authorised, audited, and kept as a ``ClusterPin`` that every later batch clustering
(``suggestions.clustering``) honours; a merge is also a label for the next ``flask suggestions train-similarity``."""
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from accounts.models import User
from accounts.permissions import can_act_for_body
from core import audit
from core.errors import Conflict, InvalidInput, NotAllowed
from core.extensions import db
from core.models import utcnow
from suggestions.cluster_rows import refresh_cluster
from suggestions.models import Cluster, ClusterMember, ClusterPin, IssueCandidate, PinKind


def _authorise(actor: User, cluster: Cluster) -> None:
    if not can_act_for_body(actor, cluster.campaign.body_id):
        raise NotAllowed()


def _pin(actor: User, cluster: Cluster, kind: PinKind, suggestion_id: int, other_id: int | None,
         reason: str) -> None:
    db.session.add(ClusterPin(campaign_id=cluster.campaign_id, kind=kind, suggestion_id=suggestion_id,
                              other_id=other_id, actor_id=actor.id, reason=reason))


def _member(cluster: Cluster, suggestion_id: int) -> ClusterMember:
    member = db.session.get(ClusterMember, suggestion_id)
    if member is None or member.cluster_id != cluster.id:
        raise InvalidInput(_l("That proposal is not in this cluster."))
    return member


def confirm_cluster(actor: User, cluster: Cluster, reason: str = "") -> None:
    """Staff confirm that the members belong together: later batches keep every one of them here."""
    _authorise(actor, cluster)
    for member in cluster.members:
        if member.suggestion_id != cluster.representative_id:
            _pin(actor, cluster, PinKind.TOGETHER, member.suggestion_id, cluster.representative_id, reason)
    cluster.confirmed_at, cluster.confirmed_by_id = utcnow(), actor.id
    audit.record(actor, "cluster.confirm", cluster, body_id=cluster.campaign.body_id, reason=reason,
                 members=[m.suggestion_id for m in cluster.members])


def choose_representative(actor: User, cluster: Cluster, suggestion_id: int, reason: str = "") -> None:
    """Staff choose which member represents the cluster; later batches keep that choice."""
    _authorise(actor, cluster)
    _member(cluster, suggestion_id)
    member_ids = [m.suggestion_id for m in cluster.members]
    db.session.execute(sa.delete(ClusterPin).where(ClusterPin.kind == PinKind.REPRESENTATIVE,
                                                   ClusterPin.suggestion_id.in_(member_ids)))
    _pin(actor, cluster, PinKind.REPRESENTATIVE, suggestion_id, None, reason)
    for member_id in member_ids:  # the new representative keeps its members through later batches
        if member_id != suggestion_id:
            _pin(actor, cluster, PinKind.TOGETHER, member_id, suggestion_id, reason)
    previous = cluster.representative_id
    cluster.representative_id = suggestion_id
    for member in cluster.members:
        member.kind = "representative" if member.suggestion_id == suggestion_id else (
            "pinned" if member.suggestion_id == previous else member.kind)
    audit.record(actor, "cluster.representative", cluster, body_id=cluster.campaign.body_id, reason=reason,
                 previous=previous, representative=suggestion_id)


def move_out(actor: User, cluster: Cluster, suggestion_id: int, reason: str) -> Cluster:
    """Staff take a proposal out of a cluster; it becomes its own cluster and never rejoins this one."""
    _authorise(actor, cluster)
    if not reason:
        raise InvalidInput(_l("Say why the proposal does not belong here."))
    member = _member(cluster, suggestion_id)
    if suggestion_id == cluster.representative_id:
        raise Conflict(_l("Choose another representative before moving this proposal out."))
    for other in cluster.members:
        if other.suggestion_id != suggestion_id:
            _pin(actor, cluster, PinKind.APART, suggestion_id, other.suggestion_id, reason)
    db.session.execute(sa.delete(ClusterPin).where(
        ClusterPin.kind == PinKind.TOGETHER,
        sa.or_(ClusterPin.suggestion_id == suggestion_id, ClusterPin.other_id == suggestion_id)))
    db.session.delete(member)
    db.session.flush()
    alone = Cluster(campaign_id=cluster.campaign_id, representative_id=suggestion_id, size=1)
    db.session.add(alone)
    db.session.flush()
    db.session.add(ClusterMember(suggestion_id=suggestion_id, cluster_id=alone.id, kind="pinned"))
    db.session.flush()
    refresh_cluster(cluster)
    refresh_cluster(alone)
    audit.record(actor, "cluster.move_out", cluster, body_id=cluster.campaign.body_id, reason=reason,
                 suggestion=suggestion_id, new_cluster=alone.id)
    return alone


def merge_clusters(actor: User, cluster: Cluster, other: Cluster, reason: str) -> None:
    """Staff merge ``other`` into ``cluster`` (same campaign); later batches keep them together."""
    _authorise(actor, cluster)
    if other.id == cluster.id or other.campaign_id != cluster.campaign_id:
        raise InvalidInput(_l("Choose another cluster of the same campaign."))
    if not reason:
        raise InvalidInput(_l("Say why the two clusters are the same idea."))
    kept, moved = [m.suggestion_id for m in cluster.members], [m.suggestion_id for m in other.members]
    blocked = db.session.scalar(sa.select(sa.func.count()).select_from(ClusterPin).where(
        ClusterPin.kind == PinKind.APART,
        sa.or_(sa.and_(ClusterPin.suggestion_id.in_(kept), ClusterPin.other_id.in_(moved)),
               sa.and_(ClusterPin.suggestion_id.in_(moved), ClusterPin.other_id.in_(kept)))))
    if blocked:
        raise Conflict(_l("Staff have kept some of these proposals apart; move them out first."))
    for member in list(other.members):
        member.cluster_id = cluster.id
        member.kind = "pinned"
        _pin(actor, cluster, PinKind.TOGETHER, member.suggestion_id, cluster.representative_id, reason)
    db.session.execute(sa.delete(ClusterPin).where(ClusterPin.kind == PinKind.REPRESENTATIVE,
                                                   ClusterPin.suggestion_id == other.representative_id))
    both = [cluster.id, other.id]  # their candidates named the two apart; the next batch offers the merged one's
    db.session.execute(sa.delete(IssueCandidate).where(sa.or_(IssueCandidate.cluster_id.in_(both),
                                                              IssueCandidate.other_cluster_id.in_(both))))
    db.session.flush()
    db.session.expire(other, ["members"])
    db.session.expire(cluster, ["members"])
    db.session.delete(other)
    db.session.flush()
    refresh_cluster(cluster)
    audit.record(actor, "cluster.merge", cluster, body_id=cluster.campaign.body_id, reason=reason,
                 merged_cluster=other.id, moved=moved)
