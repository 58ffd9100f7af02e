"""Each public proposal's words as the same-issue score reads them, kept in ``issue_words`` between clusterings.

Cutting words with jieba costs about 1.5 ms a proposal, a third of joining a campaign's copy groups by issue
(89 of 248 s at 100,000, docs/benchmarks.md): a campaign clustered every night would otherwise cut every proposal
again each time. A kept
row is used while its digest matches the text (``issue_texts.words_digest``: the text as the score reads it and
the word cutter's version); others are cut again. Rows of proposals no longer public are dropped.
"""
from collections.abc import Sequence

import sqlalchemy as sa

from core.extensions import db
from suggestions.issue_texts import Text, words_digest, words_of
from suggestions.models import IssueWords, Suggestion

BATCH = 500


def words_for(campaign_id: int, suggestion_ids: Sequence[int], texts: Sequence[Text],
              n_jobs: int = 1) -> list[tuple[str, str]]:
    """The words (``issue_texts.words_of``) of the campaign's proposals ``suggestion_ids``, whose texts are
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
    stale = [suggestion_ids[k] for k in missing if suggestion_ids[k] in kept]
    for start in range(0, len(stale), BATCH):
        db.session.execute(sa.delete(IssueWords).where(IssueWords.suggestion_id.in_(stale[start:start + BATCH])))
    rows = [{"suggestion_id": suggestion_ids[k], "digest": digests[k], "whole_words": whole, "title_words": title}
            for k, (whole, title) in zip(missing, cut, strict=True)]
    for start in range(0, len(rows), BATCH * 10):
        db.session.execute(sa.insert(IssueWords), rows[start:start + BATCH * 10])
    for k, found in zip(missing, cut, strict=True):
        words[k] = found
    _drop_hidden(campaign_id)
    return words


def keep_words(suggestion_id: int, text: Text) -> None:
    """Cut and keep one proposal's words (a new public proposal, placed by its job), unless kept already."""
    digest = words_digest(text)
    row = db.session.get(IssueWords, suggestion_id)
    if row is not None and row.digest == digest:
        return
    (whole, title), = words_of([text])
    if row is None:
        db.session.add(IssueWords(suggestion_id=suggestion_id, digest=digest, whole_words=whole, title_words=title))
    else:
        row.digest, row.whole_words, row.title_words = digest, whole, title


def _drop_hidden(campaign_id: int) -> None:
    """Forget the words of the campaign's proposals that are no longer public (hidden, withdrawn)."""
    hidden = sa.select(Suggestion.id).where(Suggestion.campaign_id == campaign_id, Suggestion.public == sa.false())
    db.session.execute(sa.delete(IssueWords).where(IssueWords.suggestion_id.in_(hidden)))
