"""Each campaign's similarity index (``suggestions.dedup.Index``): held in each serving process, saved as folders
the processes of a machine share, and the text it reads (without personal data).

The index is built outside the request path and saved as a folder of arrays under ``SIMILARITY_INDEX_DIR``
(``save_campaign_index``: the job ``build_similarity_index``, ``flask suggestions similarity-index``, and every
re-clustering); each serving process maps the newest folder into memory read-only, so the machine's processes share
one copy and a first hint after a restart costs milliseconds. On use, each process tops its copy up in its own
memory with the proposals that became public since the folder was saved (``Suggestion.public_since``, whatever
their id: a proposal published after screening or unhidden is found too); once a process holds more than
``SIMILARITY_INDEX_REBUILD_AFTER`` of them, it asks for a fresh folder. Proposals that stopped being public are
dropped when a query meets them. A campaign with no folder yet is indexed in the process's memory on first use
(and a folder is asked for). A process keeps the most recently used campaigns' indexes while the proposals it
holds in its own memory stay within ``SIMILARITY_INDEX_BUDGET`` (200,000) and it maps at most
``SIMILARITY_INDEX_MAPPED_MAX`` folders (256; one open file each). Each index has its own lock: gunicorn's threads
query and top it up one at a time.
"""
import fcntl
import hashlib
import os
import re
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from core import jobs
from core.extensions import db
from core.privacy import mask_personal_data
from suggestions import dedup
from suggestions.models import Suggestion

# How far back each top-up looks again: a transaction may commit a little after the time it stamped.
COMMIT_MARGIN = timedelta(seconds=60)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _CampaignIndex:
    """One campaign's index in this process, behind its own lock (gunicorn's threads query and add at once): the
    folder it was loaded from (None: built here, or none yet), the latest ``public_since`` it has seen, and when
    saving a folder last failed here (so a full disk is not retried on every hint)."""

    def __init__(self):
        self.lock = threading.RLock()  # re-entered when a caller holding it asks for hints again
        self.index: dedup.Index | None = None
        self.seen_until, self.folder, self.save_failed_at = _EPOCH, None, 0.0
        self.unreadable: str | None = None  # a folder that could not be mapped: not tried again

    @property
    def in_memory(self) -> int:
        """Proposals this process holds in its own memory (a mapped folder's are shared)."""
        if self.index is None:
            return 0
        return self.index.added if self.folder else len(self.index)


_indexes: OrderedDict[int, _CampaignIndex] = OrderedDict()  # least recently used first
_indexes_lock = threading.Lock()  # guards the dict only; each index has its own lock
SAVE_RETRY_SECONDS = 60.0


# What is left of personal data once masked (138****5678, 330102****…): the digits kept for the reader go too.
_MASKED = re.compile(r"[0-9A-Za-z]*\*+[0-9A-Za-z*@.\-]*")


def without_personal_data(text: str) -> str:
    """Text as the similarity engine sees it: personal data masked, then the masked pieces dropped, so that
    neither typing hints, related proposals nor clusters find a proposal by a phone, ID or card number (or a name)
    written in it, not even by the first and last digits a masked number keeps."""
    return _MASKED.sub(" ", mask_personal_data(text))


def text_of(title: str, body: str) -> str:
    """What similarity compares: the title and the body, without personal data."""
    return without_personal_data(f"{title}\n{body}")


def public_rows(campaign_id: int, *, since: datetime | None = None, ids: list[int] | None = None):
    """(id, title, body, author_id, public_since) of the campaign's public proposals, oldest id first."""
    query = (sa.select(Suggestion.id, Suggestion.title, Suggestion.body, Suggestion.author_id,
                       Suggestion.public_since)
             .where(Suggestion.campaign_id == campaign_id, Suggestion.public == sa.true()).order_by(Suggestion.id))
    if since is not None:
        query = query.where(Suggestion.public_since >= since)
    if ids is not None:
        query = query.where(Suggestion.id.in_(ids))
    return db.session.execute(query).all()


def _latest(rows, default: datetime) -> datetime:
    return max([default, *(row.public_since for row in rows if row.public_since is not None)])


@contextmanager
def campaign_index(campaign_id: int) -> Iterator[dedup.Index]:
    """The campaign's similarity index in this process, brought up to date and locked while the caller uses it
    (``with campaign_index(c) as index: index.query(...)``). Empty when the campaign has no public proposal."""
    with _indexes_lock:
        held = _indexes.get(campaign_id)
        if held is None:
            held = _indexes[campaign_id] = _CampaignIndex()
        _indexes.move_to_end(campaign_id)
    with held.lock:
        _refresh(campaign_id, held)
        index = held.index if held.index is not None else dedup.Index(())
        yield index
    with _indexes_lock:
        _keep_within_budget()


def _refresh(campaign_id: int, held: _CampaignIndex) -> None:
    """Map the campaign's newest folder if this process has not yet (or build an index here when there is none),
    then top it up with the proposals that became public since; past ``SIMILARITY_INDEX_REBUILD_AFTER`` of
    those, have a fresh folder saved. Under ``held.lock``."""
    newest = _current_folder(campaign_id)
    if held.index is None or newest not in (None, held.folder, held.unreadable):
        if not _map(campaign_id, held, newest) and held.index is None:
            rows = public_rows(campaign_id)
            if not rows:
                return  # nothing kept: idf fitted on no text would stay with the campaign's index
            held.index, held.seen_until, held.folder = _index_of(rows), _latest(rows, _EPOCH), None
            _ask_for_folder(campaign_id, held)
    recent = db.session.execute(
        sa.select(Suggestion.id, Suggestion.public_since)
        .where(Suggestion.campaign_id == campaign_id, Suggestion.public == sa.true(),
               Suggestion.public_since >= held.seen_until - COMMIT_MARGIN)).all()
    missing = [row.id for row in recent if row.id not in held.index]
    for row in public_rows(campaign_id, ids=missing) if missing else ():
        held.index.add(row.id, text_of(row.title, row.body), row.author_id)
    held.seen_until = _latest(recent, held.seen_until)
    if held.folder and held.index.added > current_app.config["SIMILARITY_INDEX_REBUILD_AFTER"]:
        _ask_for_folder(campaign_id, held)


def _map(campaign_id: int, held: _CampaignIndex, folder: str | None) -> bool:
    """Map the saved folder into ``held``; False (keeping what ``held`` had) when there is none or it cannot be
    read: pruned meanwhile by another process, or of an older format."""
    if folder is None:
        return False
    try:
        index, meta = dedup.Index.load(_campaign_dir(campaign_id) / folder)
        if meta.get("campaign_id") != campaign_id:
            raise ValueError(f"saved for campaign {meta.get('campaign_id')}")
    except (OSError, ValueError, KeyError) as error:
        current_app.logger.warning("similarity index %s of campaign %s not loaded: %s", folder, campaign_id, error)
        held.unreadable = folder
        return False
    held.index, held.seen_until, held.folder = index, datetime.fromisoformat(meta["seen_until"]), folder
    return True


def _index_of(rows) -> dedup.Index:
    return dedup.Index((row.id, text_of(row.title, row.body), row.author_id) for row in rows)


def _keep_within_budget() -> None:
    """Drop the least recently used campaigns' indexes while this process holds more proposals in its own memory
    than ``SIMILARITY_INDEX_BUDGET``, or maps more folders than ``SIMILARITY_INDEX_MAPPED_MAX`` (each holds a
    file open): memory grows with the proposals held, never with the number of campaigns (the most recent index
    stays whatever its size; a dropped one is mapped or rebuilt on its next use). Under ``_indexes_lock``."""
    budget, mapped_max = (current_app.config["SIMILARITY_INDEX_BUDGET"],
                          current_app.config["SIMILARITY_INDEX_MAPPED_MAX"])
    while len(_indexes) > 1 and (sum(held.in_memory for held in _indexes.values()) > budget
                                 or sum(held.folder is not None for held in _indexes.values()) > mapped_max):
        _indexes.popitem(last=False)


# --- saved indexes, shared by the processes of a machine -----------------------------------------------------

def _campaign_dir(campaign_id: int) -> Path:
    """Where the campaign's saved indexes live: under a digest of the database's identity (dialect, host, port,
    database or file; not the user or options), so that a folder never serves another database's campaign of the
    same number (tests, a developer's second database) and every process of one database finds the same one."""
    url = db.engine.url
    where = str(Path(url.database).resolve()) if url.get_backend_name() == "sqlite" and url.database else url.database
    identity = f"{url.get_backend_name()}://{url.host or ''}:{url.port or ''}/{where or ''}"
    database = hashlib.blake2b(identity.encode(), digest_size=6).hexdigest()
    return Path(current_app.config["SIMILARITY_INDEX_DIR"]) / database / f"campaign-{campaign_id}"


def _current_folder(campaign_id: int) -> str | None:
    """The name of the campaign's newest saved index (its ``current`` file), or None."""
    try:
        return (_campaign_dir(campaign_id) / "current").read_text().strip() or None
    except OSError:
        return None


def save_campaign_index(campaign_id: int) -> int:
    """Build the campaign's index from its public proposals and save it as the newest folder, which every
    process maps on its next use. Returns how many proposals it holds (0: nothing saved). For jobs and commands:
    it ends the session's transaction once the rows are read (no lock is held while it builds), so the caller
    must have nothing uncommitted."""
    rows = public_rows(campaign_id)
    db.session.rollback()
    if not rows:
        return 0
    _save(campaign_id, _index_of(rows), _latest(rows, _EPOCH))
    return len(rows)


def _save(campaign_id: int, index: dedup.Index, seen_until: datetime) -> str:
    """Save ``index`` as the campaign's newest folder and return its name. The folder is written under a
    temporary name and renamed into place; pointing ``current`` at it and pruning happen under an exclusive lock
    on the campaign's folder, so two savers (two workers, the job and the nightly batch) never point at a folder
    the other removed. Pruned: folders neither current nor the one before, and older than an hour (a process
    that mapped one keeps reading it; one about to map it has time to)."""
    folder = _campaign_dir(campaign_id)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{os.getpid()}-{threading.get_ident()}"
    writing = folder / f".writing-{name}"
    try:
        index.save(writing, seen_until=seen_until.isoformat(), campaign_id=campaign_id)
        os.rename(writing, folder / name)
    except BaseException:
        shutil.rmtree(writing, ignore_errors=True)
        raise
    with open(folder / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        previous = _current_folder(campaign_id)
        pointer = folder / f".current-{name}"
        pointer.write_text(name)
        os.replace(pointer, folder / "current")  # atomic: a reader sees the old name or the new one
        stale = time.time() - 3600
        for old in folder.iterdir():
            if old.name in (name, previous, "current", ".lock"):
                continue
            try:
                if old.stat().st_mtime >= stale:
                    continue
            except FileNotFoundError:  # another saver's folder, renamed into place meanwhile
                continue
            shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink(missing_ok=True)
    return name


@jobs.job(queue="batch", when_queue_down="later", once=True)
def build_similarity_index(campaign_id: int) -> None:
    """Job: save a fresh similarity index of the campaign (see ``save_campaign_index``)."""
    save_campaign_index(campaign_id)


def _ask_for_folder(campaign_id: int, held: _CampaignIndex) -> None:
    """Have a fresh index of the campaign saved: by a job worker when there is one; on the embedded default,
    at once in this process, which then maps it (unless another process has saved one meanwhile, or saving
    failed here within ``SAVE_RETRY_SECONDS``: the process keeps its own copy up to date meanwhile)."""
    if jobs.queue_configured():
        jobs.enqueue(build_similarity_index, campaign_id)
        return
    if time.monotonic() - held.save_failed_at < SAVE_RETRY_SECONDS:
        return
    if held.folder is not None and _current_folder(campaign_id) != held.folder:
        return  # another process saved a newer one: mapped on the next use
    try:
        if held.folder is None:
            name = _save(campaign_id, held.index, held.seen_until)  # the index just built: saved as it is
        else:
            rows = public_rows(campaign_id)
            name = _save(campaign_id, _index_of(rows), _latest(rows, _EPOCH))
    except OSError as error:  # a full disk, say: hints still work, from this process's memory
        held.save_failed_at = time.monotonic()
        current_app.logger.warning("similarity index of campaign %s not saved: %s", campaign_id, error)
        return
    _map(campaign_id, held, name)


def index_proposal(index: dedup.Index, suggestion: Suggestion) -> None:
    """Add a public proposal the top-up could not see (one without ``public_since``, e.g. imported). Inside
    ``with campaign_index(...)``."""
    if suggestion.id not in index:
        index.add(suggestion.id, text_of(suggestion.title, suggestion.body), suggestion.author_id)


def forget_indexes() -> None:
    """Drop every index this process holds (tests; after a bulk change). Saved folders stay."""
    with _indexes_lock:
        _indexes.clear()
