"""Similar proposals: the hints shown while a citizen types, and the related proposals each proposal page lists.

Typing hints query the campaign's similarity index (``suggestions.dedup.Index``). The index is built outside the
request path and saved as a folder of arrays under ``SIMILARITY_INDEX_DIR`` (``save_campaign_index``: the job
``build_similarity_index``, ``flask suggestions similarity-index``, and every re-clustering); each serving process
maps the newest folder into memory read-only, so the machine's processes share one copy and a first hint after a
restart costs milliseconds. On use, each process tops its copy up in its own memory with the proposals that became
public since the folder was saved (``Suggestion.public_since``, whatever their id: a proposal published after
screening or unhidden is found too); once a process holds more than ``SIMILARITY_INDEX_REBUILD_AFTER`` of them, it
asks for a fresh folder. Proposals that stopped being public are dropped when a query meets them. A campaign with
no folder yet is indexed in the process's memory on first use (and a folder is asked for). A process keeps the
most recently used campaigns' indexes while the proposals it holds in its own memory stay within
``SIMILARITY_INDEX_BUDGET`` (200,000) and it maps at most ``SIMILARITY_INDEX_MAPPED_MAX`` folders (256; one open
file each). Each index has its own lock: gunicorn's threads query and top it up one at a time.

A proposal page never computes similarity: it reads ``RelatedProposal`` rows, written when a proposal becomes
public (its own list, and its place in the lists of the proposals it resembles) and, for a whole campaign, by
``flask suggestions cluster``.
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
from flask_babel import lazy_gettext as _l

from core import jobs
from core.extensions import db
from core.privacy import mask_personal_data
from suggestions import dedup, issue_model
from suggestions.models import ClusterMember, Suggestion
from suggestions.places import Places
from suggestions.same_issue import Text, issue_probabilities

SIMILAR_LIMIT = 5
# Hints while typing may be looser than near-duplicates: a related proposal is worth a look.
HINT_FLOOR = 0.6 * dedup.THRESHOLD
# ... and citizens who raise one issue in their own words share few characters: a hint is also offered when the
# whole texts' score reaches RELATED_FLOOR (labelled "related"). `python -m bench.dedup hint-floor`: of the
# same-issue pairs of ../shared/data/issue_pairs_dev.csv 93% score 0.1 or more and 49% reach HINT_FLOOR (99% and
# 77% of the project's provincial pairs), while 0.5% of random pairs of those messages reach 0.1. Titles alone keep
# HINT_FLOOR: two short titles share boilerplate (关于…增设…的建议) more easily than two texts.
RELATED_FLOOR = 0.1
HINT_CANDIDATES = 15  # further proposals the index offers, ranked again with their titles
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


SAME_TEXT_SCORE = 0.99
RELATIONS = {"same_text": _l("same text"), "reworded": _l("same text, reworded"),
             "same_issue": _l("the same issue"), "related": _l("related")}
"""What a hint or a related proposal is to the text it was found for, in the words the pages use: the same text
(identical once normalised, or nearly: score ≥ SAME_TEXT_SCORE), the same text reworded (a copy: score ≥ the
threshold; clustered and its support pooled), the same issue in other words (typing hints: a candidate the
same-issue model scores at its threshold or more, or in the cluster of a proposal the text copies, joined there
by ``issue_groups`` or the staff; its score is then the model's probability) or related (sharing words, below
the threshold)."""


def relation(kind: str, score: float) -> str:
    """A key of RELATIONS for a match's kind and score (``dedup.Match`` or a ``RelatedProposal``)."""
    if kind == "exact" or (kind == "same_author_repost" and score >= SAME_TEXT_SCORE):
        return "same_text"
    if kind == "same_issue":
        return "same_issue"
    return "reworded" if kind in ("similar", "same_author_repost") else "related"


def text_of(title: str, body: str) -> str:
    """What similarity compares: the title and the body, without personal data."""
    return without_personal_data(f"{title}\n{body}")


def issue_text(title: str, body: str) -> Text:
    """A proposal as the same-issue score reads it: title and body apart, without personal data."""
    return Text(without_personal_data(title), without_personal_data(body))


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


def similar_proposals(campaign_id: int, text: str, *, author_id: int | None = None, exclude: int | None = None,
                      limit: int = SIMILAR_LIMIT, floor: float = HINT_FLOOR,
                      by_issue: bool = False) -> list[tuple[Suggestion, dedup.Match]]:
    """Public proposals of the campaign most like ``text`` (a draft or a proposal: its title, a line break, its
    body), best first: by the whole text's similarity or, when higher, by how alike the two titles are, so that a
    draft with only its title typed already finds a proposal with that title. ``floor``: the least whole-text
    score kept (typing hints pass RELATED_FLOOR; a proposal's stored related list keeps HINT_FLOOR, as clustering
    does); titles alone always need HINT_FLOOR. ``by_issue`` (typing hints): the candidates that are not copies
    are scored by the same-issue model too (``_by_issue``)."""
    if len(text.strip()) < 4:
        return []
    text = without_personal_data(text)
    draft_title = text.split("\n", 1)[0]
    with campaign_index(campaign_id) as index:
        if not len(index):
            return []
        candidates = index.query(text, limit + HINT_CANDIDATES, author=author_id,
                                 exclude={exclude} if exclude else ())
        found = {s.id: s for s in db.session.scalars(
            sa.select(Suggestion).where(Suggestion.id.in_([m.id for m in candidates])))}
        ranked = []
        for match in candidates:
            suggestion = found.get(match.id)
            if suggestion is None or not suggestion.is_public:
                if match.id in index:
                    index.remove(match.id)
                continue
            likeness = title_likeness(draft_title, suggestion.title)
            if by_issue or match.score >= floor or likeness >= HINT_FLOOR:
                ranked.append((max(match.score, likeness), suggestion, match))
    ranked.sort(key=lambda item: -item[0])
    if by_issue:
        return _by_issue(text, ranked, limit, exclude, floor)
    return _with_the_same_issue(text, [(suggestion, match) for _, suggestion, match in ranked], limit, exclude)


def _by_issue(text: str, ranked: list[tuple[float, Suggestion, dedup.Match]], limit: int, exclude: int | None,
              floor: float) -> list[tuple[Suggestion, dedup.Match]]:
    """The best ``limit`` typing hints: copies of the text first, then the proposals about the same issue in other
    words, most likely first (the model in use, ``issue_model.current_model``, scores every candidate that is no
    copy, and the other members of the copies' clusters count whatever it says: clustering or the staff joined
    them), then related ones (reaching ``floor``, or a title like the draft's). A candidate naming another place of
    the same kind is never the same issue, as clustering keeps it apart. The score of a same-issue hint is the
    model's probability."""
    places = Places.of(text)
    conflicting = {s.id for _, s, m in ranked if places.names and places.conflicts(Places.of(text_of(s.title, s.body)))}
    copies = [(s, m) for _, s, m in ranked if m.kind != "related" and s.id not in conflicting]
    mates = _cluster_mates([s.id for s, _ in copies], exclude, limit)
    copy_ids = {s.id for s, _ in copies}
    ranked_ids = {s.id for _, s, _ in ranked}
    pool = [s for _, s, _ in ranked if s.id not in copy_ids] + [s for s in mates if s.id not in ranked_ids]
    title, _, body = text.partition("\n")
    model = issue_model.current_model()
    probabilities = issue_probabilities(Text(title, body), [issue_text(s.title, s.body) for s in pool], model)
    mate_ids = {s.id for s in mates}
    same_issue = sorted(((p, s) for p, s in zip(probabilities.tolist(), pool, strict=True)
                         if s.id in mate_ids or (p >= model.threshold and s.id not in conflicting)),
                        key=lambda item: -item[0])
    taken = copy_ids | {s.id for _, s in same_issue}
    related = [(s, dedup.Match(m.id, m.score, "related")) for rank, s, m in ranked
               if s.id not in taken and (m.score >= floor or rank >= HINT_FLOOR)]
    return (copies + [(s, dedup.Match(s.id, p, "same_issue")) for p, s in same_issue] + related)[:limit]


def _cluster_mates(ids: list[int], exclude: int | None, limit: int) -> list[Suggestion]:
    """Other public members of the clusters of the proposals ``ids``, most supported first."""
    if not ids:
        return []
    clusters = sa.select(ClusterMember.cluster_id).where(ClusterMember.suggestion_id.in_(ids))
    return db.session.scalars(
        sa.select(Suggestion).join(ClusterMember, ClusterMember.suggestion_id == Suggestion.id)
        .where(ClusterMember.cluster_id.in_(clusters), Suggestion.public == sa.true(),
               Suggestion.id.not_in([*ids, *([exclude] if exclude else [])]))
        .order_by(Suggestion.support_count.desc(), Suggestion.id).limit(limit)).all()


def _with_the_same_issue(text: str, hints: list[tuple[Suggestion, dedup.Match]], limit: int,
                         exclude: int | None) -> list[tuple[Suggestion, dedup.Match]]:
    """The best ``limit`` hints: the copies of the text first, then the other public members of their clusters
    (the same issue in other words, most supported first; labelled so even when the index found them as related),
    then the related ones. A "copy" naming another place of the same kind (the same complaint about another
    estate) is only related, as clustering keeps it apart."""
    places = Places.of(text)
    hints = [(s, m if m.kind == "related" or not places.names or not places.conflicts(Places.of(
        text_of(s.title, s.body))) else dedup.Match(m.id, m.score, "related")) for s, m in hints]
    copies = [(s, m) for s, m in hints if m.kind != "related"]
    if not copies:
        return hints[:limit]
    mates = _cluster_mates([s.id for s, _ in copies], exclude, limit)
    found = {s.id: m for s, m in hints}
    same_issue = [(s, dedup.Match(s.id, found[s.id].score if s.id in found else 0.0, "same_issue")) for s in mates]
    mate_ids = {s.id for s in mates}
    related = [(s, m) for s, m in hints if m.kind == "related" and s.id not in mate_ids]
    return (copies + same_issue + related)[:limit]


def title_likeness(a: str, b: str) -> float:
    """Dice coefficient of the two titles' character bigrams, normalised as similarity normalises texts."""
    grams_a, grams_b = _bigrams(dedup.normalise(a)), _bigrams(dedup.normalise(b))
    return 2 * len(grams_a & grams_b) / (len(grams_a) + len(grams_b)) if grams_a and grams_b else 0.0


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1) if " " not in text[i:i + 2]}
