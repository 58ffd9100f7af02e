"""Place and entity names in proposals: the few characters before a place suffix (小区, 花园, 路, 村, 学校, 公司 …).

Two uses. ``places_conflict`` is a rule on one pair, needing no corpus: both texts name a place of the same kind
(two roads, two estates) and neither mentions the other's; clustering uses it so that a cluster never mixes the
same problem at two places (沿河路口 and 新华路口). ``mine_place_names`` and ``place_names`` read longer names with a
gazetteer mined from a campaign's own texts (a dictionary knows no housing estates), for the same-issue score's
features (``suggestions.same_issue``).

On the 878 labelled pairs of ../shared/data/issue_pairs_dev.csv (title and first 80 characters), the rule flags
0.4% of the pairs about the same issue and 12.9% of the others (docs/benchmarks.md).
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from suggestions.dedup_features import normalise

PLACE_SUFFIXES = tuple("小区 花园 家园 新城 新村 公寓 广场 大厦 大道 路 街 巷 村 社区 街道 镇 乡 "
                       "学校 小学 中学 幼儿园 大学 学院 医院 公司 集团 厂 市场 商场 公园 车站 "
                       "桥 苑 府 城 湾 园 中心 酒店 银行 湖 山 港".split())
_SUFFIX_RE = re.compile("|".join(sorted(PLACE_SUFFIXES, key=len, reverse=True)))
_NAME_CHUNKS = re.compile(r"[^\u4e00-\u9fffA-Za-z0-9]+")
MASKED_PLACE = re.compile(r"[A-Za-z]\d*[市区县省]")  # the shared data masks real places as A市, A2区
_NOT_A_NAME_START = set("在的是我于到和与及从对向住这那该本其个了把被给为将由")
_NOT_IN_A_NAME = re.compile("在|的|家住|我家|我们")
"""What a name never holds, wherever it stands: 我家住在东湖区 names no place called 家住在东, 铁路新村楼下的双港路
none called 新村楼下的双 (before 港)."""
_GENERIC_NAMES = set("我们 你们 他们 这个 那个 一个 附近 旁边 周边 小区 社区 我家 本人 业主 居民 现在 目前 请问 "
                     "投诉 举报 关于 反映 建议 希望 还有 已经 没有 我是 位于 所在 整个 城市 马路 道路 公路 农村 学校 "
                     "中小 所有 周围 城区 市区 全市 市政 我市 本市 其他 相关 老旧 新建 安置 回迁 商品 保障 各个 "
                     "部分 一些 很多 一名 多个 这些 那些".split())
"""Words before a place suffix that describe a kind of place, not one place (老旧小区: old estates in general)."""
NAME_LENGTHS = range(2, 7)
NAME_HEAD = 60
"""The same-issue score reads names in the title and the body's first 60 characters: where citizens say where."""
CONFLICT_HEAD = 80
"""``places_conflict`` reads the first 80 characters of the whole text (title first)."""


_NOT_PLACES = re.compile("马路|道路|公路|铁路|线路|走路|过路|让路|修路|之路|城市|县城|进城|城管|城区|城乡|"
                         "市场监管|山区|园区|港口|中小学|大中小|临街|沿街|过街|街头|街边")
"""Words that hold a place suffix without naming a place (过马路 is no road of its own; 临街门面 is a shop facing
any street)."""


_ENDS_A_PLACE = set("路街巷村道镇乡")
"""A suffix right after one of these is part of a word about that place (沿河路路口, 新华街路面), not a name."""


def _suffix_positions(text: str, words_in_names: bool = False) -> Iterable[tuple[str, int]]:
    """(chunk, position) of every place suffix with at least two characters before it in its chunk. A word of
    _NOT_PLACES holds no suffix; it also cuts the chunk, unless ``words_in_names`` (the mined names of the
    same-issue score): then it may begin a name, as 铁路 does in 铁路新村 (an estate, not a road)."""
    text = MASKED_PLACE.sub(" ", text)
    for chunk in _NAME_CHUNKS.split(text if words_in_names else _NOT_PLACES.sub(" ", text)):
        inside = {k for word in _NOT_PLACES.finditer(chunk) for k in range(*word.span())} if words_in_names else ()
        for match in _SUFFIX_RE.finditer(chunk):
            before = match.start() - 1
            if match.start() >= NAME_LENGTHS.start and match.start() not in inside \
                    and (chunk[before] not in _ENDS_A_PLACE or before in inside):
                yield chunk, match.start()


def mine_place_names(texts: Iterable[str]) -> Counter:
    """How many texts hold each candidate name (2-6 characters just before a place suffix)."""
    counts = Counter()
    for text in texts:
        counts.update({chunk[end - k:end] for chunk, end in _suffix_positions(text, words_in_names=True)
                       for k in NAME_LENGTHS if end - k >= 0})
    return counts


def place_names(text: str, counts: Counter) -> set[str]:
    """The place and entity names in ``text``: before each suffix, the longest candidate that at least two texts
    of the corpus share and that is not much rarer than its shorter tail (so 丽发新城, not 旁建丽发新城)."""
    names = set()
    for chunk, end in _suffix_positions(text, words_in_names=True):
        best = None
        for k in NAME_LENGTHS:
            if end - k < 0:
                break
            candidate = chunk[end - k:end]
            if candidate[0] in _NOT_A_NAME_START or _NOT_IN_A_NAME.search(candidate):
                continue
            seen = counts.get(candidate, 0)
            if seen >= 2 and (best is None or seen >= 0.34 * counts.get(best, 1)):
                best = candidate
        if best and best not in _GENERIC_NAMES:
            names.add(best)
    return names




def _short_names(text: str) -> dict[str, set[str]]:
    """Suffix → the two characters before each of its occurrences (沿河 for 沿河路), function words left out."""
    names: dict[str, set[str]] = {}
    for chunk, end in _suffix_positions(text):
        name = chunk[end - 2:end]
        if name[0] not in _NOT_A_NAME_START and name not in _GENERIC_NAMES and name.isalpha() and \
                not name.isascii():
            names.setdefault(_SUFFIX_RE.match(chunk, end).group(), set()).add(name)
    return names


@dataclass(frozen=True)
class Places:
    """A text, normalised, with the short names at its start (``_short_names``): what ``conflicts`` compares."""
    text: str
    names: dict[str, frozenset[str]]

    @classmethod
    def of(cls, text: str) -> Places:
        normalised = normalise(text)
        return cls(normalised, {kind: frozenset(names)
                                for kind, names in _short_names(normalised[:CONFLICT_HEAD]).items()})

    def conflicts(self, other: Places) -> bool:
        """Both name places of the same kind (路 and 路, 小区 and 小区) at the start, neither mentions any of the
        other's, and no two of those names share a character in the same place (沿河 and 沿呵 may be one name
        mistyped; but 杏苑 and 桂苑 before 小区 share 苑, a kind compared on its own: 银杏 and 金桂): the same
        problem at two places is two issues."""
        kinds = self.names.keys() & other.names.keys()
        return bool(kinds) and not any(name in other.text for kind in kinds for name in self.names[kind]) \
            and not any(name in self.text for kind in kinds for name in other.names[kind]) \
            and not any(a[0] == b[0] or (a[1] == b[1] and a[1] not in kinds) for kind in kinds
                        for a in self.names[kind] for b in other.names[kind])


def places_conflict(text_a: str, text_b: str) -> bool:
    """``Places.conflicts`` of two raw texts."""
    return Places.of(text_a).conflicts(Places.of(text_b))
