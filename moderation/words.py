"""The sensitive-word list: matching a submission against it, and the administrators' edits.

Words and texts are compared folded: NFKC, Traditional to Simplified and lower case (``core.chinese.fold``),
then without spaces and punctuation, so 代開發票, 代开 发票 and 代-开-发-票 all match 代开发票. The list lives in
the database (every process reads the same one); each process keeps an Aho-Corasick automaton (pyahocorasick)
built from it and rebuilds it when the rows it reads differ from those it was built from.

This module depends on ``core`` and ``moderation.models`` only: ``suggestions.services`` calls ``screen`` when
a proposal is submitted.
"""
import threading
import unicodedata

import ahocorasick
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from accounts.models import User
from accounts.permissions import require_admin
from core import audit
from core.chinese import fold
from core.errors import Conflict, InvalidInput
from core.extensions import db
from core.text import clean_text
from moderation.models import SensitiveWord, WordCategory, WordHold

WORD_MAX_LENGTH = 40
WORDS_PER_SUBMISSION = 200  # lines an administrator may add at once


def fold_for_matching(text: str) -> str:
    """The text as the list is matched against it: folded, without whitespace, punctuation or symbols."""
    return "".join(ch for ch in fold(text) if unicodedata.category(ch)[0] not in "ZPSC")


class _Matcher:
    """An automaton over the list's folded words, rebuilt when the list changes (read on every use)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._rows: tuple = ()
        self._automaton = None

    def find(self, text: str) -> list[dict[str, str]]:
        rows = tuple(tuple(row) for row in db.session.execute(
            sa.select(SensitiveWord.folded, SensitiveWord.word, SensitiveWord.category).order_by(SensitiveWord.id)))
        if not rows:
            return []
        with self._lock:
            if rows != self._rows:
                automaton = ahocorasick.Automaton()
                for folded, word, category in rows:
                    automaton.add_word(folded, (word, category))
                automaton.make_automaton()
                self._rows, self._automaton = rows, automaton
            automaton = self._automaton
        found = {}
        for _end, (word, category) in automaton.iter(fold_for_matching(text)):
            found.setdefault(word, category)
        return [{"word": word, "category": category} for word, category in sorted(found.items())]


_matcher = _Matcher()


def find_words(text: str) -> list[dict[str, str]]:
    """The listed words the text contains (each once, with its category), in the list's spelling."""
    return _matcher.find(text)


def screen(title: str, body: str) -> list[dict[str, str]]:
    """At submission: the listed words in a proposal's title and text; any match holds it for review."""
    return find_words(f"{title}\n{body}")


def hold(suggestion, matches: list[dict[str, str]]) -> WordHold:
    """Record why a submission is held (its status is already pending); shown in the moderation queue."""
    entry = WordHold(suggestion_id=suggestion.id, matches=matches)
    db.session.add(entry)
    return entry


def add_words(actor: User, category: str, lines: str) -> tuple[list[SensitiveWord], list[str]]:
    """Administrators add words to the list (one a line); returns (added, already listed). One audit row each."""
    require_admin(actor)
    if category not in WordCategory.__members__.values():
        raise InvalidInput(_l("Choose a category."))
    text = clean_text(lines, field=_l("Words"), max_length=WORDS_PER_SUBMISSION * (WORD_MAX_LENGTH + 1),
                      multiline=True)
    words = list(dict.fromkeys(line.strip() for line in text.split("\n") if line.strip()))
    if len(words) > WORDS_PER_SUBMISSION:
        raise InvalidInput(_l("Add at most %(n)d words at a time.", n=WORDS_PER_SUBMISSION))
    added, skipped, seen = [], [], set()
    for word in words:
        if len(word) > WORD_MAX_LENGTH:
            raise InvalidInput(_l("“%(word)s…” is longer than %(n)d characters.", word=word[:10], n=WORD_MAX_LENGTH))
        folded = fold_for_matching(word)
        if not folded:
            raise InvalidInput(_l("“%(word)s” has no letters or characters to match.", word=word))
        if folded in seen or db.session.scalar(sa.select(SensitiveWord.id).where(SensitiveWord.folded == folded)):
            skipped.append(word)
            continue
        seen.add(folded)
        entry = SensitiveWord(word=word, folded=folded, category=category, created_by_id=actor.id)
        db.session.add(entry)
        db.session.flush()
        audit.record(actor, "moderation.add_word", entry, word=word, category=category)
        added.append(entry)
    return added, skipped


def remove_word(actor: User, entry: SensitiveWord) -> None:
    """Administrators take a word off the list (submissions already held stay held)."""
    require_admin(actor)
    if sa.inspect(entry).deleted:
        raise Conflict(_l("This word has already been removed."))
    audit.record(actor, "moderation.remove_word", entry, word=entry.word, category=entry.category)
    db.session.delete(entry)
    db.session.flush()


def seed_default_words(only_if_empty: bool = True) -> int:
    """Add the default list (``moderation.default_words``): by default only to an empty list, so that words
    administrators removed stay removed; returns how many were added."""
    from moderation.default_words import DEFAULT_WORDS

    if only_if_empty and db.session.scalar(sa.select(sa.func.count()).select_from(SensitiveWord)):
        return 0
    existing = set(db.session.scalars(sa.select(SensitiveWord.folded)))
    added = 0
    for category, words in DEFAULT_WORDS.items():
        for word in words:
            folded = fold_for_matching(word)
            if folded not in existing:
                db.session.add(SensitiveWord(word=word, folded=folded, category=category))
                existing.add(folded)
                added += 1
    db.session.flush()
    return added
