"""Each public proposal's words as the same-issue score reads them, kept in ``issue_words`` between clusterings.

Cutting words with jieba costs about 1.5 ms a proposal, about half of joining a campaign's copy groups by issue
(89 of 191 s at 100,000 in the bench's two processes, docs/benchmarks.md): a campaign clustered every night would
otherwise cut every proposal again each time. A kept row is used while its digest matches the text
(``issue_text_words.words_digest``: the text as the score reads it and the word cutter's version); others are cut
again. A proposal's row goes when it stops being public.
"""
from collections.abc import Sequence

import sqlalchemy as sa

from core.database import insert_for
from core.extensions import db
from suggestions.issue_text_words import Text, words_digest, words_of
from suggestions.models import IssueWords, Suggestion

BATCH = 500


def words_for(campaign_id: int, suggestion_ids: Sequence[int], texts: Sequence[Text],
              n_jobs: int = 1) -> list[tuple[str, str]]:
    """The words (``issue_text_words.words_of``) of the campaign's proposals ``suggestion_ids``, whose texts are
    ``texts``: kept ones where still good, the others cut now and kept, in the caller's transaction."""
    kept = {row[0]: row[1:] for row in db.session.execute(
        sa.select(IssueWords.suggestion_id, IssueWords.digest, IssueWords.whole_words, IssueWords.title_words)
        .join(Suggestion, Suggestion.id == IssueWords.suggestion_id)
        .where(Suggestion.campaign_id == campaign_id))} if suggestion_ids else {}
    digests = [words_digest(text) for text in texts]
    words: list[tuple[str, str] | None] = []
    for suggestion_id, digest in zip(suggestion_ids, digests, strict=True):
        row = kept.get(suggestion_id)
        words.append((row[1], row[2]) if row is not None and row[0] == digest else None)
    missing = [k for k, found in enumerate(words) if found is None]
    cut = words_of([texts[k] for k in missing], n_jobs)
    rows = [{"suggestion_id": suggestion_ids[k], "digest": digests[k], "whole_words": whole, "title_words": title}
            for k, (whole, title) in zip(missing, cut, strict=True)]
    for start in range(0, len(rows), BATCH):
        _keep(rows[start:start + BATCH])
    for k, found in zip(missing, cut, strict=True):
        words[k] = found
    _drop_hidden(campaign_id)
    return words


def keep_words(suggestion_id: int, text: Text) -> None:
    """Cut and keep one proposal's words (a new public proposal, placed by its job), unless kept already."""
    digest = words_digest(text)
    if db.session.scalar(sa.select(IssueWords.digest).where(IssueWords.suggestion_id == suggestion_id)) == digest:
        return
    (whole, title), = words_of([text])
    _keep([{"suggestion_id": suggestion_id, "digest": digest, "whole_words": whole, "title_words": title}])


def forget_words(suggestion_id: int) -> None:
    """Drop a proposal's kept words (it stopped being public)."""
    db.session.execute(sa.delete(IssueWords).where(IssueWords.suggestion_id == suggestion_id))


def _keep(rows: list[dict]) -> None:
    """Insert or replace rows: a clustering and a placement job may write the same proposal's words at once."""
    if not rows:
        return
    insert = insert_for(db.session, IssueWords)
    db.session.execute(insert.values(rows).on_conflict_do_update(
        index_elements=[IssueWords.suggestion_id],
        set_={"digest": insert.excluded.digest, "whole_words": insert.excluded.whole_words,
              "title_words": insert.excluded.title_words}))


def _drop_hidden(campaign_id: int) -> None:
    """Forget the words of the campaign's proposals that are no longer public (a safety net: ``forget_words``
    runs when one leaves the public statuses)."""
    hidden = sa.select(Suggestion.id).where(Suggestion.campaign_id == campaign_id, Suggestion.public == sa.false())
    db.session.execute(sa.delete(IssueWords).where(IssueWords.suggestion_id.in_(hidden)))
