"""Draft services: import a draft and its later versions, anchor comments to articles, summarise them.

Services flush; the caller commits. Every staff action is checked here and audit-logged.
"""
import difflib
import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from accounts.models import User
from accounts.permissions import can_act_for_body, require_body_manager, require_body_staff
from campaigns.models import Campaign
from core import audit
from core.errors import Conflict, NotFound
from core.extensions import db
from core.params import record_id
from core.text import clean_text
from drafts.models import Draft, DraftArticle, DraftComment, DraftProvision, DraftVersion
from drafts.parsing import ParsedDraft, Provision
from suggestions.models import Suggestion

WHOLE_DRAFT = "whole"  # the form's value for a comment on the draft as a whole
QUOTE_MAX_LENGTH = 500
NOTE_MAX_LENGTH = 500
SAME_ARTICLE_SIMILARITY = 0.5  # a reworded article: at least this share of its text kept (difflib's ratio)
SAME_LABEL_BONUS = 0.1  # the same number (第十二条) counts for it when the text changed


def draft_of(campaign: Campaign) -> Draft | None:
    return db.session.scalar(sa.select(Draft).where(Draft.campaign_id == campaign.id))


def _clean_note(note: str) -> str:
    return clean_text(note or "", field=_l("Note"), max_length=NOTE_MAX_LENGTH, min_length=0)


def _require_manager(actor: User | None, campaign: Campaign) -> None:
    """Managers of the campaign's body; ``None`` is the command line (``flask drafts import``)."""
    if actor is not None:
        require_body_manager(actor, campaign.body_id)


def create_draft(actor: User | None, campaign: Campaign, parsed: ParsedDraft, *, source_name: str = "",
                 note: str = "", title: str = "") -> Draft:
    """Put ``parsed`` out for comment in ``campaign`` as its version 1 (managers of the campaign's body)."""
    _require_manager(actor, campaign)
    if draft_of(campaign) is not None:
        raise Conflict(_l("This campaign already has a draft: import the new text as a new version."))
    title = clean_text(title or parsed.title or campaign.title, field=_l("Title"), max_length=200, min_length=2)
    draft = Draft(campaign=campaign, title=title)
    db.session.add(draft)
    db.session.flush()
    version = _add_version(draft, parsed, source_name=source_name, note=_clean_note(note), actor=actor)
    audit.record(actor, "draft.create", draft, body_id=campaign.body_id, version=version.number,
                 articles=len(parsed.articles), source=source_name)
    return draft


def import_version(actor: User | None, draft: Draft, parsed: ParsedDraft, *, source_name: str = "",
                   note: str = "") -> DraftVersion:
    """Add ``parsed`` as the draft's next version; its articles are matched to the previous version's so that
    comments follow the articles that remain (``match_articles``)."""
    _require_manager(actor, draft.campaign)
    before = set(article_ids(draft.current_version))
    version = _add_version(draft, parsed, source_name=source_name, note=_clean_note(note), actor=actor)
    kept = len(before & set(article_ids(version)))
    from drafts.feedback import link_pending_decisions  # feedback builds on this module
    link_pending_decisions(draft)
    audit.record(actor, "draft.version", draft, body_id=draft.campaign.body_id, version=version.number,
                 articles=len(parsed.articles), kept=kept, source=source_name)
    return version


def article_ids(version: DraftVersion) -> list[int]:
    """The ids of the articles ``version`` has, in order."""
    return [p.article_id for p in version.provisions if p.article_id is not None]


def _add_version(draft: Draft, parsed: ParsedDraft, *, source_name: str, note: str, actor: User | None) -> DraftVersion:
    previous = draft.versions[-1] if draft.versions else None
    version = DraftVersion(draft=draft, number=(previous.number + 1) if previous else 1,
                           title=(parsed.title or draft.title)[:200], note=note, source_name=source_name[:200],
                           imported_by_id=actor.id if actor else None)
    db.session.add(version)
    db.session.flush()
    articles = parsed.articles
    matches = match_articles([p for p in previous.provisions if p.article_id is not None], articles) \
        if previous else [None] * len(articles)
    article_of = dict(zip(map(id, articles), matches, strict=True))
    for position, provision in enumerate(parsed.provisions):
        article_id = None
        if provision.commentable:
            article_id = article_of[id(provision)]
            if article_id is None:
                article = DraftArticle(draft_id=draft.id)
                db.session.add(article)
                db.session.flush()
                article_id = article.id
        db.session.add(DraftProvision(
            version=version, position=position, kind=provision.kind, depth=provision.depth,
            label=provision.label[:40], number=provision.number, heading=provision.heading[:200],
            text=provision.text, within=provision.within[:400], article_id=article_id))
    db.session.flush()
    return version


def _plain(text: str) -> str:
    return re.sub(r"\s+", "", text)


def match_articles(previous: list[DraftProvision], new: list[Provision]) -> list[int | None]:
    """For each new article, the ``DraftArticle`` id of the previous version's article it continues, or None
    (a new article). The same text is the same article wherever it moved; otherwise the pairs most alike (at least
    ``SAME_ARTICLE_SIMILARITY``, the same number helping) are matched first, each article used once."""
    found: list[int | None] = [None] * len(new)
    free = {p.article_id: p for p in previous}
    by_text: dict[str, list[int]] = {}
    for p in previous:
        by_text.setdefault(_plain(p.heading + p.text), []).append(p.article_id)
    for i, provision in enumerate(new):
        for article_id in by_text.get(_plain(provision.heading + provision.text), []):
            if article_id in free:
                found[i] = article_id
                del free[article_id]
                break
    pairs = []
    for i, provision in enumerate(new):
        if found[i] is not None:
            continue
        text = _plain(provision.heading + provision.text)
        for article_id, old in free.items():
            matcher = difflib.SequenceMatcher(None, _plain(old.heading + old.text), text, autojunk=False)
            bonus = SAME_LABEL_BONUS if old.label == provision.label else 0.0
            if matcher.real_quick_ratio() + bonus < SAME_ARTICLE_SIMILARITY \
                    or matcher.quick_ratio() + bonus < SAME_ARTICLE_SIMILARITY:
                continue
            score = matcher.ratio() + bonus
            if score >= SAME_ARTICLE_SIMILARITY:
                pairs.append((score, i, article_id))
    for _score, i, article_id in sorted(pairs, key=lambda pair: -pair[0]):
        if found[i] is None and article_id in free:
            found[i] = article_id
            del free[article_id]
    return found


# --- comments ------------------------------------------------------------------------------------------------

@dataclass
class Target:
    """What a comment is on: the draft, and one of its current version's articles (None: the whole draft).
    ``missing``: an article was asked for that the current version does not have (a new version dropped it)."""
    draft: Draft
    provision: DraftProvision | None
    missing: bool = False


def comment_target(campaign: Campaign, chosen: str | None) -> Target | None:
    """The target the proposal form was opened or sent for: None when the campaign has no draft; the whole draft
    when ``chosen`` is empty or ``whole``; an article of the current version by its id, else ``missing``."""
    draft = draft_of(campaign)
    if draft is None:
        return None
    if not chosen or chosen == WHOLE_DRAFT:
        return Target(draft, None)
    try:
        article_id = record_id(chosen)
    except ValueError:
        return Target(draft, None, missing=True)
    provision = db.session.scalar(sa.select(DraftProvision).where(
        DraftProvision.version_id == draft.current_version.id, DraftProvision.article_id == article_id))
    return Target(draft, provision, missing=provision is None)


def _spaced(text: str) -> str:
    return " ".join(text.split())


def passage_in(text: str, quote: str) -> str:
    """``quote`` if it is a passage of ``text``, with runs of spaces and line breaks read as one space on both
    sides (a selection across two paragraphs holds a line break), else ""."""
    quote = _spaced(quote or "")[:QUOTE_MAX_LENGTH]
    return quote if quote and quote in _spaced(text) else ""


def attach_comment(suggestion: Suggestion, target: Target, quote: str = "") -> DraftComment:
    """Tie a just-submitted proposal to the draft (and article, and passage) it comments on."""
    provision = target.provision
    comment = DraftComment(suggestion_id=suggestion.id, draft_id=target.draft.id,
                           article_id=provision.article_id if provision else None,
                           version_id=target.draft.current_version.id, public=suggestion.is_public,
                           quote=passage_in(provision.text, quote) if provision else "")
    db.session.add(comment)
    db.session.flush()
    return comment


@dataclass
class Anchor:
    """Where a comment stands in a version: on its article (and passage), or orphaned (the article is gone)."""
    state: str  # "whole" (on the whole draft), "article", "orphaned"
    provision: DraftProvision | None = None
    passage_found: bool = False  # the selected passage is still in the article's text


def anchor_of(comment: DraftComment, version: DraftVersion) -> Anchor:
    """Where ``comment`` stands in ``version``."""
    if comment.article_id is None:
        return Anchor("whole")
    provision = db.session.scalar(sa.select(DraftProvision).where(
        DraftProvision.version_id == version.id, DraftProvision.article_id == comment.article_id))
    if provision is None:
        return Anchor("orphaned")
    return Anchor("article", provision, bool(comment.quote) and comment.quote in _spaced(provision.text))


def copy_public_flags(session, _flush_context) -> None:
    """After a flush: copy the ``public`` of each proposal whose status changed to its draft comment, if any
    (every status change goes through the ORM: services, moderation, screening)."""
    changed = [obj for obj in session.dirty if isinstance(obj, Suggestion)
               and sa.inspect(obj).attrs.status.history.has_changes()]
    for public in (True, False):
        ids = [obj.id for obj in changed if obj.is_public is public]
        if ids:
            session.connection().execute(sa.update(DraftComment).where(DraftComment.suggestion_id.in_(ids))
                                         .values(public=public))


def install() -> None:
    """Keep ``DraftComment.public`` in step with the proposals' status on every flush (once per process)."""
    if not sa.event.contains(db.session, "after_flush", copy_public_flags):
        sa.event.listen(db.session, "after_flush", copy_public_flags)


def comment_counts(draft: Draft) -> dict[int | None, int]:
    """Public comments per article id (None: on the whole draft); read from an index alone."""
    rows = db.session.execute(
        sa.select(DraftComment.article_id, sa.func.count())
        .where(DraftComment.draft_id == draft.id, DraftComment.public)
        .group_by(DraftComment.article_id))
    return {article_id: count for article_id, count in rows}


def orphaned_count(draft: Draft, counts: dict[int | None, int] | None = None) -> int:
    """Public comments whose article the current version no longer has (from ``comment_counts`` when given)."""
    counts = comment_counts(draft) if counts is None else counts
    current = set(article_ids(draft.current_version))
    return sum(count for article_id, count in counts.items() if article_id is not None and article_id not in current)


def require_draft_staff(actor: User | None, draft: Draft) -> None:
    """Staff of the campaign's body read the per-article summaries and exports."""
    require_body_staff(actor, draft.campaign.body_id)


def can_read_summaries(actor: User | None, draft: Draft) -> bool:
    return can_act_for_body(actor, draft.campaign.body_id)


def article_history(draft: Draft, article_ids: list[int]) -> list[DraftProvision]:
    """These articles of the draft as each version had them, oldest version first."""
    return list(db.session.scalars(
        sa.select(DraftProvision).join(DraftProvision.version)
        .where(DraftVersion.draft_id == draft.id, DraftProvision.article_id.in_(article_ids))
        .order_by(DraftProvision.version_id)))


def version_by_number(draft: Draft, number: int | None) -> DraftVersion:
    """The version numbered ``number`` (the current one when None); NotFound for any other number."""
    if number is None:
        return draft.current_version
    for version in draft.versions:
        if version.number == number:
            return version
    raise NotFound(_l("This draft has no such version."))


def link_comments_by_mention(draft: Draft) -> int:
    """Tie the campaign's proposals not yet tied to the draft to the article of the current version their title
    or text names first ("第十二条"), else to the whole draft; returns how many were tied. For a consultation
    whose comments came in as ordinary proposals before its draft was imported."""
    from drafts.parsing import ARTICLE_MENTION, number_of
    version = draft.current_version
    article_by_number = {p.number: p.article_id for p in version.provisions
                         if p.kind == "article" and p.article_id is not None}
    untied = db.session.execute(
        sa.select(Suggestion.id, Suggestion.title, Suggestion.body, Suggestion.public)
        .outerjoin(DraftComment, DraftComment.suggestion_id == Suggestion.id)
        .where(Suggestion.campaign_id == draft.campaign_id, DraftComment.suggestion_id.is_(None))).all()
    for suggestion_id, title, body, public in untied:
        mention = ARTICLE_MENTION.search(title) or ARTICLE_MENTION.search(body)
        article_id = article_by_number.get(number_of(mention.group(1))) if mention else None
        db.session.add(DraftComment(suggestion_id=suggestion_id, draft_id=draft.id, article_id=article_id,
                                    version_id=version.id, public=public))
    db.session.flush()
    audit.record(None, "draft.link_comments", draft, body_id=draft.campaign.body_id, comments=len(untied))
    return len(untied)



# --- what changed between two versions ---------------------------------------------------------------------

@dataclass
class Change:
    """One article between two versions: added, removed, reworded or moved (renumbered, same text)."""
    kind: str  # "added", "removed", "reworded", "renumbered"
    article_id: int
    before: DraftProvision | None
    after: DraftProvision | None
    segments: list[tuple[str, str]]  # ("same" | "insert" | "delete", text): the text diff, for reworded


def text_diff(before: str, after: str) -> list[tuple[str, str]]:
    """``after`` against ``before`` character by character (Chinese has no spaces to split words at)."""
    segments = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            segments.append(("same", before[i1:i2]))
            continue
        if op in ("delete", "replace"):
            segments.append(("delete", before[i1:i2]))
        if op in ("insert", "replace"):
            segments.append(("insert", after[j1:j2]))
    return segments


def _with_heading(provision: DraftProvision) -> str:
    """An article's text as the diff shows it: its 【title】 first, when it has one."""
    return (f"【{provision.heading}】" if provision.heading and provision.kind == "article" else "") + provision.text


def compare_versions(before: DraftVersion, after: DraftVersion) -> list[Change]:
    """The articles that changed from ``before`` to ``after``, in the order of ``after`` (removed ones where
    they stood)."""
    old = {p.article_id: p for p in before.provisions if p.article_id is not None}
    new = {p.article_id: p for p in after.provisions if p.article_id is not None}
    changes = []
    for article_id, provision in old.items():
        if article_id not in new:
            changes.append(Change("removed", article_id, provision, None, []))
    for article_id, provision in new.items():
        previous = old.get(article_id)
        if previous is None:
            changes.append(Change("added", article_id, None, provision, []))
        elif previous.heading + previous.text != provision.heading + provision.text:
            changes.append(Change("reworded", article_id, previous, provision,
                                  text_diff(_with_heading(previous), _with_heading(provision))))
        elif previous.label != provision.label:
            changes.append(Change("renumbered", article_id, previous, provision, []))

    def place(change: Change) -> tuple[float, int]:
        if change.after is not None:
            return change.after.position, 1
        return change.before.position - 0.5, 0  # roughly where it stood
    return sorted(changes, key=place)


@dataclass
class ArticleRow:
    provision: DraftProvision | None  # None: the whole draft
    comments: int
    commenters: int
    support: int


def article_table(draft: Draft) -> list[ArticleRow]:
    """Each article of the current version with its public comments, distinct commenters and their support;
    first the comments on the whole draft."""
    figures = {article_id: (count, commenters, support) for article_id, count, commenters, support in
               db.session.execute(
                   sa.select(DraftComment.article_id, sa.func.count(),
                             sa.func.count(sa.func.distinct(Suggestion.author_id)),
                             sa.func.coalesce(sa.func.sum(Suggestion.support_count), 0))
                   .join(Suggestion, Suggestion.id == DraftComment.suggestion_id)
                   .where(DraftComment.draft_id == draft.id, Suggestion.public)
                   .group_by(DraftComment.article_id))}
    rows = [ArticleRow(None, *figures.get(None, (0, 0, 0)))]
    for provision in draft.current_version.provisions:
        if provision.article_id is not None:
            rows.append(ArticleRow(provision, *figures.get(provision.article_id, (0, 0, 0))))
    return rows
