"""Similar proposals: the hints shown while a citizen types, and the related proposals each proposal page lists.

Typing hints query the campaign's similarity index (``suggestions.similarity_index``: saved as a folder each
serving process maps, topped up on use), rank the candidates again with their titles, and, asked ``by_issue``,
score them with the same-issue model (``suggestions.same_issue``).

A proposal page never computes similarity: it reads ``RelatedProposal`` rows, written when a proposal becomes
public (its own list, and its place in the lists of the proposals it resembles) and, for a whole campaign, by
``flask suggestions cluster``.
"""
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.extensions import db
from suggestions import dedup, issue_model
from suggestions.issue_text_words import Text
from suggestions.models import ClusterMember, Suggestion
from suggestions.places import Places
from suggestions.same_issue import issue_probabilities
from suggestions.similarity_index import (
    build_similarity_index,  # noqa: F401 (jobs queued by its earlier name)
    campaign_index,
    text_of,
    without_personal_data,
)

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


def issue_text(title: str, body: str) -> Text:
    """A proposal as the same-issue score reads it: title and body apart, without personal data."""
    return Text(without_personal_data(title), without_personal_data(body))


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
