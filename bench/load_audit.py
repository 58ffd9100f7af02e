"""The audit after a load run (``bench.load``): wait for the worker to catch up, then check against PostgreSQL
and Redis that what the clients were told was saved is there, counters equal vote rows, the search index and the
clusters caught up, and no job was lost.
"""
import time

import sqlalchemy as sa


def settle(app, seconds: int) -> float:
    """Wait until the job queues and the search queue are empty (or ``seconds`` pass); returns the wait."""
    from core import jobs
    from core.extensions import db
    from search.models import SearchQueue

    started = time.monotonic()
    with app.app_context():
        while time.monotonic() - started < seconds:
            status = jobs.queue_status(app)
            busy = sum(q["waiting"] + q["running"] + q["scheduled"] for q in status["queues"].values())
            queued = db.session.scalar(sa.select(sa.func.count()).select_from(SearchQueue))
            db.session.rollback()
            if not busy and not queued:
                break
            time.sleep(1)
    return time.monotonic() - started


def clusters_behind() -> int:
    """Clusters whose stored count of distinct supporters is not the live one (counted in a rolled-back recount)."""
    from core.extensions import db
    from suggestions.cluster_rows import recount_supporters
    behind = recount_supporters()
    db.session.rollback()
    return behind


def audit(app, record, plan) -> list[tuple[str, bool, str]]:
    """The checks, each (what, passed, detail): ``record`` is what the clients were told (``bench.load.Record``),
    ``plan`` the accounts and figures prepared before the run (``bench.load.Plan``)."""
    from core import jobs
    from core.extensions import db
    from search.models import SearchQueue
    from suggestions.models import PUBLIC_STATUSES, Cluster, ClusterMember, Suggestion, Vote

    checks = []
    with app.app_context():
        accepted = record.submissions
        rows = {s.id: s for s in db.session.scalars(sa.select(Suggestion).where(Suggestion.id.in_(list(accepted))))}
        missing = [i for i, (user_id, title) in accepted.items()
                   if i not in rows or rows[i].author_id != user_id or rows[i].title != title]
        checks.append(("every accepted submission exists (id, author, title)", not missing,
                       f"{len(accepted)} accepted, {len(missing)} missing or different {missing[:10]}"))

        votes = {(v.user_id, v.suggestion_id): v.value for v in db.session.scalars(
            sa.select(Vote).where(Vote.user_id.in_(plan.user_ids)))}
        wrong = [pair for pair, value in record.votes.items()
                 if pair not in record.uncertain_votes and votes.get(pair) != value]
        unexplained = [pair for pair in votes if pair not in record.votes and pair not in record.uncertain_votes]
        checks.append(("every accepted vote is a row with its value", not wrong,
                       f"{len(record.votes)} (user, proposal) pairs accepted, {len(wrong)} without their row "
                       f"{wrong[:10]}; {len(record.uncertain_votes)} unanswered left out"))
        checks.append(("no vote row the client was not told of", not unexplained,
                       f"{len(votes)} rows of the load's accounts, {len(unexplained)} unexplained {unexplained[:10]}"))

        def count(value):
            return (sa.select(sa.func.count()).select_from(Vote).where(
                Vote.suggestion_id == Suggestion.id, Vote.value == value, Vote.held_at.is_(None)).scalar_subquery())
        off = db.session.execute(sa.select(Suggestion.id, Suggestion.support_count, count(1),
                                           Suggestion.oppose_count, count(-1))
                                 .where(sa.or_(Suggestion.support_count != count(1),
                                               Suggestion.oppose_count != count(-1)))).all()
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Suggestion))
        checks.append(("every proposal's support and oppose counters equal its vote rows", not off,
                       f"{total} proposals, {len(off)} off {[tuple(r) for r in off[:5]]}"))

        queued = db.session.scalar(sa.select(sa.func.count()).select_from(SearchQueue))
        public = {r.id: (r.status, r.support_count) for r in db.session.execute(
            sa.select(Suggestion.id, Suggestion.status, Suggestion.support_count)
            .where(Suggestion.status.in_(PUBLIC_STATUSES)))}
        indexed = {r[0]: (r[1], r[2]) for r in db.session.execute(
            sa.text("SELECT id, status, support_count FROM search.proposal_words"))}
        stale = [i for i, entry in public.items() if indexed.get(i) != (str(entry[0]), entry[1])]
        extra = [i for i in indexed if i not in public]
        new_public = [i for i in accepted if i in public]
        checks.append(("the search index caught up (queue empty, every public proposal with its status and "
                       "support count, nothing else)", not queued and not stale and not extra,
                       f"{queued} queued, {len(public)} public, {len(indexed)} indexed, {len(stale)} missing or "
                       f"stale {stale[:10]}, {len(extra)} not public {extra[:10]}; {len(new_public)} of the "
                       f"accepted submissions public"))

        clustered = set(db.session.scalars(sa.select(Cluster.campaign_id).distinct()))
        placed = set(db.session.scalars(sa.select(ClusterMember.suggestion_id)
                                        .where(ClusterMember.suggestion_id.in_(new_public))))
        unplaced = [i for i in new_public if rows[i].campaign_id in clustered and i not in placed]
        checks.append(("every accepted public submission was placed in its campaign's clusters (by the worker)",
                       not unplaced, f"{len(new_public)} public, {len(unplaced)} not placed {unplaced[:10]}"))

        behind = clusters_behind()
        print(f"  (not a check: clusters whose count of distinct supporters a recount would change, {behind} "
              f"after the run, {plan.clusters_behind_before} before it; votes never touch the cluster row, batches and "
              f"`flask suggestions recount` refresh it)")

        status = jobs.queue_status(app, failed_limit=5)
        left = {name: {k: q[k] for k in ("waiting", "running", "scheduled", "failed")}
                for name, q in status["queues"].items()}
        failures = [f for q in status["queues"].values() for f in q.get("latest_failed", [])]
        checks.append(("no job lost: queues empty, none failed", not any(
            n for q in left.values() for n in q.values()), f"{left}, workers {status['workers']} {failures}"))
    return checks
