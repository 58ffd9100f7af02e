"""Keeping the index in step with the database.

1. Whenever a flush writes a proposal, a ``search_queue`` row is inserted in the same transaction.
2. After a request that wrote proposals the ``drain_search_queue`` job is enqueued (a worker runs it; on the
   embedded default it runs at once, after the request's commit); ``flask search catch-up`` and the periodic
   ``catch_up_search`` job do the same. Each queued proposal is re-read from the database and indexed if public,
   removed from the index otherwise; the queue rows are deleted only after the index has committed. Draining twice
   is harmless, and the rows wait in the table while the job queue is down.
3. ``flask search reindex`` rebuilds the whole index from the database.
"""
import time
from collections.abc import Iterable, Iterator

import click
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, joinedload

from campaigns.models import Campaign
from core import jobs
from core.extensions import db
from core.models import utcnow
from core.privacy import mask_personal_data
from search.backend import SearchBackend, SearchDocument, backend_from_config
from search.models import SearchQueue
from suggestions.models import PUBLIC_STATUSES, Suggestion

BATCH = 500


def get_backend() -> SearchBackend:
    """The app's search backend, built once per process."""
    backend = current_app.extensions.get("search_backend")
    if backend is None:
        backend = current_app.extensions["search_backend"] = backend_from_config(current_app.config)
    return backend


COUNTERS = frozenset({"support_count", "oppose_count"})


def _only_counters_changed(suggestion: Suggestion) -> bool:
    state = sa.inspect(suggestion)
    changed = {attr.key for attr in state.attrs if attr.history.has_changes()}
    return bool(changed) and changed <= COUNTERS


def _enqueue_changed(session: Session, _flush_context) -> None:
    added_or_deleted = [obj for obj in (*session.new, *session.deleted) if isinstance(obj, Suggestion)]
    modified = [obj for obj in session.dirty if isinstance(obj, Suggestion)]
    ids = {obj.id for obj in (*added_or_deleted, *modified) if obj.id is not None}
    if ids:
        session.connection().execute(sa.insert(SearchQueue), [{"suggestion_id": i} for i in sorted(ids)])
        if not added_or_deleted and all(_only_counters_changed(obj) for obj in modified):
            session.info["search_counters_queued"] = True
        else:
            session.info["search_queued"] = True


def move_counters(moved: sa.Update) -> tuple[int, int]:
    """Run an UPDATE of one proposal's counters that returns (id, support_count, oppose_count) and queue the
    proposal for the index as a counters-only change; returns the new counters. On PostgreSQL both writes are one
    statement (a writable CTE), so a vote's counters cost one round trip."""
    if db.session.get_bind().dialect.name == "postgresql":
        updated = moved.cte("moved")
        now = sa.literal(utcnow(), SearchQueue.enqueued_at.type)
        queued = sa.insert(SearchQueue).from_select(["suggestion_id", "enqueued_at"], sa.select(updated.c.id, now))
        row = db.session.execute(sa.select(updated.c.support_count, updated.c.oppose_count)
                                 .add_cte(queued.cte("queued"))).one()
    else:
        row = db.session.execute(moved).one()
        db.session.execute(sa.insert(SearchQueue).values(suggestion_id=row.id, enqueued_at=utcnow()))
    db.session.info["search_counters_queued"] = True
    return row.support_count, row.oppose_count


_last_due_check = 0.0  # monotonic seconds; see _drain_due_now


def _drain_due(counters_delay: int) -> bool:
    """True if the oldest queued change waited ``counters_delay`` seconds or more."""
    # The lowest id is the oldest row: read through the primary key, not by scanning a queue that votes fill.
    oldest = db.session.scalar(sa.select(SearchQueue.enqueued_at).order_by(SearchQueue.id).limit(1))
    db.session.rollback()
    return oldest is not None and (utcnow() - oldest).total_seconds() >= counters_delay


def _drain_due_now(counters_delay: int) -> bool:
    """``_drain_due``, asked at most once a second per process: a popular proposal's votes would otherwise read
    the queue after every vote (the answer only decides when a drain is enqueued; the periodic catch-up remains)."""
    global _last_due_check
    now = time.monotonic()
    if now - _last_due_check < min(1.0, counters_delay):
        return False
    _last_due_check = now
    return _drain_due(counters_delay)


def install(app) -> None:
    """Queue proposal changes on every flush; after a request that queued something, have the queue drained.

    A vote changes only a proposal's counters, which matter to the index for sorting by support alone:
    those changes wait in the queue up to ``SEARCH_COUNTERS_DELAY`` seconds (or until the next drain for
    another reason, or the periodic catch-up), so a proposal receiving a thousand votes a minute is
    reindexed about once a minute rather than a thousand times.
    """
    if not sa.event.contains(db.session, "after_flush", _enqueue_changed):  # once, however many apps are built
        sa.event.listen(db.session, "after_flush", _enqueue_changed)

    @app.after_request
    def _drain_after_request(response):
        queued = db.session.info.pop("search_queued", False)
        counters_queued = db.session.info.pop("search_counters_queued", False)
        if not app.config.get("SEARCH_INDEX_ON_REQUEST", True) or not (queued or counters_queued):
            return response
        try:
            if queued or _drain_due_now(app.config["SEARCH_COUNTERS_DELAY"]):
                jobs.enqueue(drain_search_queue)
        except Exception:  # noqa: BLE001 - the data is committed; the queue keeps the work for catch-up
            app.logger.exception("search indexing could not be started; the queue keeps the work for catch-up")
            db.session.rollback()
        return response


@jobs.job(once=True)
def drain_search_queue() -> None:
    """Job: index what the search queue names (after a request that changed proposals)."""
    drain(get_backend())


@jobs.periodic(every=60)
@jobs.job(when_queue_down="later", once=True)
def catch_up_search() -> None:
    """Job: index what is left in the queue (counters of voted proposals, work left while the job queue was
    down); rebuild an empty or outdated index whole."""
    catch_up(get_backend(), progress=False)


def document_for(suggestion: Suggestion) -> SearchDocument:
    """The indexed form of one proposal: its text as the public sees it, personal data masked (core.privacy), so
    that neither a query for a phone, ID or card number finds it nor a snippet shows one."""
    campaign = suggestion.campaign
    return SearchDocument(
        id=suggestion.id, title=mask_personal_data(suggestion.title), body=mask_personal_data(suggestion.body),
        campaign_id=suggestion.campaign_id,
        body_id=campaign.body_id, category=suggestion.category.code, message_type=suggestion.message_type,
        status=suggestion.status, region=campaign.region_scope, created_at=suggestion.created_at,
        support_count=suggestion.support_count)


def _load(ids: Iterable[int]) -> list[Suggestion]:
    return db.session.scalars(sa.select(Suggestion).where(Suggestion.id.in_(list(ids)))
                              .options(joinedload(Suggestion.campaign), joinedload(Suggestion.category))).all()


def drain(backend: SearchBackend) -> int:
    """Index what the queue names, then delete those queue rows; returns how many proposals were processed.

    Each proposal is processed once however often it was queued. The transaction that reads a batch ends
    before the index is written, so SQLite's write lock is not held while jieba and Whoosh work; queue rows
    go only once the index has committed, and rows queued meanwhile stay for the next drain.
    """
    high = db.session.scalar(sa.select(sa.func.max(SearchQueue.id)))
    done = 0
    while high is not None:
        ids = set(db.session.scalars(sa.select(SearchQueue.suggestion_id).where(SearchQueue.id <= high)
                                     .distinct().limit(BATCH)))
        if not ids:
            break
        documents = [document_for(s) for s in _load(ids) if s.status in PUBLIC_STATUSES]
        db.session.rollback()
        backend.delete(ids - {d.id for d in documents})
        backend.index(documents)
        db.session.execute(sa.delete(SearchQueue).where(SearchQueue.id <= high,
                                                        SearchQueue.suggestion_id.in_(ids)))
        db.session.commit()
        done += len(ids)
    return done


def catch_up(backend: SearchBackend, progress: bool = True) -> int:
    """Process the queue; an empty index (new machine, lost files) or one built by another tokeniser version
    is rebuilt whole instead."""
    if getattr(backend, "doc_count", lambda: 1)() == 0 or not backend.is_current():
        return reindex(backend, progress=progress)
    return drain(backend)


def _public_batches(batch: int) -> Iterator[list[Suggestion]]:
    last_id = 0
    while True:
        chunk = db.session.scalars(
            sa.select(Suggestion).where(Suggestion.status.in_(PUBLIC_STATUSES), Suggestion.id > last_id)
            .options(joinedload(Suggestion.campaign).joinedload(Campaign.body), joinedload(Suggestion.category))
            .order_by(Suggestion.id).limit(batch)).all()
        if not chunk:
            return
        yield chunk
        last_id = chunk[-1].id


def reindex(backend, progress: bool = True, chunk_size: int = 50_000) -> int:
    """Rebuild the index from the database (public proposals only); the queue is emptied first.

    Documents are read a chunk at a time and written with two tokenising processes; the database is not
    read while the writer's worker processes run. Each chunk leaves two Whoosh segments, and queries cost a
    little per segment, hence large chunks (50,000 proposals are about 25 MB in memory).
    """
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Suggestion)
                              .where(Suggestion.status.in_(PUBLIC_STATUSES)))
    db.session.execute(sa.delete(SearchQueue))
    db.session.commit()
    backend.clear()
    count = 0
    with click.progressbar(length=total, label="Indexing", show_pos=True, hidden=not progress) as bar:
        pending: list[SearchDocument] = []
        for batch in _public_batches(BATCH):
            pending.extend(document_for(s) for s in batch)
            if len(pending) >= chunk_size:
                db.session.rollback()
                count += backend.index(pending, replace=False, processes=2)
                bar.update(len(pending))
                pending = []
        db.session.rollback()
        if pending:
            count += backend.index(pending, replace=False, processes=2)
            bar.update(len(pending))
    return count
