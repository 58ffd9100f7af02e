"""Jianyan's own demo content: bodies, campaigns, citizens, proposals and replies.

Pure standard-library code with no Flask and no database; ``demo.load`` puts the result into the
database. Every function that uses randomness takes a seed and works on its own ``random.Random``,
so the same seed always gives the same data. The places (江南省, 临川市, 青溪县, 云岭市, 丰源县) and
everything written in them are fictional; the text was written for this project.
"""
import random
import re
from dataclasses import dataclass

from demo.catalogue import _CAMPAIGNS_BY_KEY, BODIES, CAMPAIGNS, CATEGORIES, DIVISIONS, EDITIONS  # noqa: F401 - public API
from demo.draft import draft_comment
from demo.phrases import (
    ASK_STYLES,
    COMPLAINT_SIGNOFFS,
    EXTRA_CLAUSES,
    GIVEN_NAMES,
    GREETINGS,
    NICK_PLACES,
    NICKNAMES,
    POLICY_EFFECTS,
    QUESTION_EXTRAS,
    SIGNOFFS,
    SURNAMES,
    SYNONYMS,
    TRADITIONAL_PAIRS,
)
from demo.replies import DECISIONS, generate_reply  # noqa: F401 - public API
from demo.topics import TOPICS
from demo.writing import BUILDERS, Mix, Places, Recipe, fits, make_title

MESSAGE_TYPES = ("suggestion", "complaint", "help", "question", "thanks")
N_AUTHORS = 600  # proposals name authors 0..599 (indexes into generate_citizens)

# --------------------------------------------------------------------------- how each campaign's proposals look

MIXES = {
    "lc-people-suggestions": Mix(620, ("linchuan",) * 4 + ("qingxi",), (0.33, 0.24, 0.15, 0.16, 0.12),
                                  intros=("一直想反映这个事情，今天终于找到了渠道。",
                                          "看到有人民建议征集这个渠道，想说说{s}的事。")),
    "prov-15th-plan": Mix(
        520, ("linchuan", "qingxi", "yunling", "fengyuan"), (0.86, 0, 0, 0.14, 0), tags=("policy",),
        intros=("看到省人大常委会征集“十五五”规划建议，我就{s}谈几点想法。",
                "“十五五”时期是全面推进现代化建设的关键阶段，我想就{s}提一点建议。",
                "很高兴能为全省“十五五”规划建言献策，下面就{s}说说我的看法。"),
        titles=("关于“十五五”期间{s}的建议", "建议将{s}纳入“十五五”规划", "“十五五”规划应重视{s}",
                "对“十五五”时期{s}的几点建议", "关于在“十五五”规划中加强{s}的建议", "{s}应作为“十五五”的重点任务",
                "建议“十五五”期间{city}加快{s}", "关于“十五五”时期{city}{s}的思考", "“十五五”期间{county}{s}的建议"),
        effects=("建议在规划中明确目标任务和责任分工，一张蓝图绘到底。", "这不仅是民生问题，也关系到全省的长远发展。",
                 "希望在“十五五”期间能看到实实在在的变化。")),
    "qx-road-safety": Mix(240, ("qingxi",), (0.5, 0.32, 0.06, 0.05, 0.07), tags=("road",),
                           intros=("看到县交警大队在征集道路交通安全隐患，我来反映一处隐患。",
                                   "响应这次交通安全隐患征集活动，反映一个我每天都会碰到的问题。"),
                           titles=("交通安全隐患：{place}{s}", "{place}{s}存在交通安全隐患")),
    "moe-after-school-draft": Mix(170, ("linchuan", "yunling", "qingxi"), (0.8, 0, 0, 0.2, 0), draft=True),
    "prov-cppcc-rural": Mix(
        200, ("qingxi", "fengyuan", "linchuan", "yunling"), (0.78, 0.05, 0.07, 0.1, 0), tags=("rural",),
        intros=("看到省政协就乡村振兴征集意见，作为一名在农村长大的人，想就{s}说几句。",
                "乡村振兴，{s}是绕不开的问题。"),
        titles=("关于推进乡村振兴中{s}的建议", "乡村振兴要重视{s}"),
        effects=("乡村振兴，关键是让农民得到实实在在的好处。",)),
    "lc-old-communities": Mix(
        230, ("linchuan",), (0.55, 0.2, 0.05, 0.15, 0.05), tags=("oldcomm",),
        intros=("听说我们小区有望列入这批老旧小区改造，大家都很期待，借这个机会反映一下{s}的问题。",
                "老旧小区改造是民心工程，希望改造时能把{s}的问题一并解决。"),
        titles=("{place}改造时请考虑{s}问题", "老旧小区改造中{s}的建议")),
    "yl-elderly-care": Mix(150, ("yunling", "fengyuan"), (0.55, 0.08, 0.15, 0.15, 0.07), tags=("elder",),
                            intros=("家里有老人，对养老服务深有体会。",
                                    "看到民政局在征集养老服务意见，想就{s}提点建议。")),
    "lc-business-env": Mix(130, ("linchuan",), (0.72, 0.13, 0.05, 0.1, 0), tags=("biz",),
                            intros=("作为一名在{city}经营了{n:5-20}年的个体工商户，对营商环境有切身体会。",
                                    "看到市人大就营商环境条例草案征求意见，我结合自己企业的经历谈几点看法。"),
                            titles=("关于条例草案中{s}相关内容的建议", "条例应对{s}作出明确规定")),
    "qx-livelihood": Mix(140, ("qingxi",), (0.62, 0.1, 0.08, 0.1, 0.1), tags=("local",),
                          intros=("县人大征集民生实事项目，我推荐一件：{s}。", "希望把{s}列入明年的民生实事项目。"),
                          titles=("建议将{place}{s}列入民生实事", "关于把{s}纳入明年民生实事项目的建议")),
}

# --------------------------------------------------------------------------- citizens

def generate_citizens(seed: int, n: int) -> list[dict]:
    """n citizen accounts with unique ASCII usernames; about a quarter go by a nickname."""
    rng = random.Random(f"jianyan-citizens-{seed}")
    citizens = []
    for i in range(n):
        sur, sur_py = rng.choice(SURNAMES)
        if rng.random() < 0.25:
            place, place_py = rng.choice(NICK_PLACES)
            display, user = rng.choice(NICKNAMES)
            display = display.format(place=place, sur=sur)
            user = user.format(place_py=place_py, sur_py=sur_py)
        else:
            given, given_py = rng.choice(GIVEN_NAMES)
            if len(given) == 1 and rng.random() < 0.3:  # two one-character given names make a two-character one
                extra, extra_py = rng.choice([g for g in GIVEN_NAMES if len(g[0]) == 1])
                given, given_py = given + extra, given_py + extra_py
            display, user = sur + given, f"{sur_py}_{given_py}"
        citizens.append({"username": f"{user}_{i:04d}", "display_name": display})
    return citizens


# --------------------------------------------------------------------------- near-duplicates

_SYNONYM_RE = re.compile("|".join(sorted(SYNONYMS, key=len, reverse=True)))
TRADITIONAL = str.maketrans(*TRADITIONAL_PAIRS)  # a few common characters in their Traditional form

def _swap_words(rng: random.Random, text: str, p: float) -> str:
    """Replace some words with synonyms, each occurrence with probability p."""
    return _SYNONYM_RE.sub(lambda m: rng.choice(SYNONYMS[m.group()]) if rng.random() < p else m.group(), text)


def _rewrite_recipe(rng: random.Random, rec: Recipe, places: Places, topic: dict | None) -> Recipe:
    """The same idea in other words: new opening and sign-off, sentences moved, clauses added or dropped."""
    new = rec.copy()
    if rng.random() < 0.6:
        new.greet = rng.choice(GREETINGS + ["", "", ""])
    if rng.random() < 0.5 and new.kind in ("suggestion", "complaint", "draft"):
        new.sign = rng.choice((COMPLAINT_SIGNOFFS if new.kind == "complaint" else SIGNOFFS) + ["", ""])
    body = new.main
    if len(body) >= 2 and rng.random() < 0.55:
        i = rng.randrange(len(body) - 1)
        body[i], body[i + 1] = body[i + 1], body[i]
    droppable = [i for i, x in enumerate(body) if x not in new.core]
    if len(body) >= 3 and droppable and rng.random() < 0.3:
        new.more.append(body.pop(rng.choice(droppable)))
    if rng.random() < 0.25:
        body.insert(rng.randrange(1, len(body) + 1), rng.choice(EXTRA_CLAUSES))
    elif new.more and rng.random() < 0.3:
        body.insert(rng.randrange(1, len(body) + 1), new.more.pop(0))
    if len(new.asks) >= 2 and rng.random() < 0.4:
        rng.shuffle(new.asks)
    if len(new.asks) >= 2 and rng.random() < 0.25:
        new.asks.pop()
    elif new.spare and topic is not None and rng.random() < 0.35:
        new.asks.append(places.fill(rng, new.spare.pop(0), s=topic["s"]))
    if new.asks and rng.random() < 0.6:
        new.style = rng.randrange(len(ASK_STYLES[new.kind]))
    if new.kind == "suggestion" and rng.random() < 0.3:
        new.tail = [] if new.tail else [rng.choice(POLICY_EFFECTS)]
    new.brk = rng.random() < 0.3
    return new


def _rewrite_text(rng: random.Random, text: str, traditional: bool) -> str:
    text = _swap_words(rng, text, 0.45)
    return text.translate(TRADITIONAL) if traditional else text


def _rewrite_title(rng: random.Random, title: str, kind: str, topic: dict | None, places: Places, mix: Mix) -> str:
    """Usually a different title for the same idea; sometimes the same words, slightly changed."""
    r = rng.random()
    if topic is not None and r < 0.55:
        for _ in range(5):
            other = make_title(rng, kind, topic, places, mix)
            if other != title:
                return other
    if r < 0.85:
        tweaked = _swap_words(rng, title, 0.8)
        if kind in ("suggestion", "complaint") and not title.startswith(("关于", "建议", "对")):
            tweaked = rng.choice(["再次反映：{}", "{}，望重视", "{}（再次反映）", "{}，盼解决", "{}"]).format(
                tweaked.rstrip("？！"))
        if 8 <= len(tweaked) <= 40:
            return tweaked
    return title


# --------------------------------------------------------------------------- proposals

@dataclass
class _Item:
    """A proposal while it is being generated."""
    campaign: str
    category: str
    kind: str
    topic: dict | None
    places: Places
    recipe: Recipe
    title: str
    body: str
    author: int
    days: float
    dup_of: int | None = None


def _window(campaign: dict) -> tuple[float, float]:
    """Days-ago bounds in which the campaign took proposals."""
    closes = campaign["closes_in_days"]
    low = float(-closes) if closes is not None and closes < 0 else 0.0
    return low, float(campaign["opened_days_ago"])


def _allocate(n: int, weights: dict[str, int]) -> dict[str, int]:
    """Split n by weights (largest remainder), so every campaign gets its share whatever n is."""
    total = sum(weights.values())
    raw = {k: n * w / total for k, w in weights.items()}
    counts = {k: int(v) for k, v in raw.items()}
    for k in sorted(raw, key=lambda k: raw[k] - counts[k], reverse=True)[: n - sum(counts.values())]:
        counts[k] += 1
    return counts


def _author(rng: random.Random) -> int:
    """A few dozen people write a lot; most write once or twice."""
    return rng.randrange(0, N_AUTHORS, 15) if rng.random() < 0.3 else rng.randrange(N_AUTHORS)


def _original(rng: random.Random, key: str) -> _Item:
    """A new proposal for campaign ``key``."""
    campaign, mix = _CAMPAIGNS_BY_KEY[key], MIXES[key]
    kind = rng.choices(MESSAGE_TYPES, mix.types)[0]
    places = Places(rng.choice(mix.locales))
    low, high = _window(campaign)
    skew = 1.4 if campaign["closes_in_days"] is None else 1.0  # a standing channel: more of it recent
    days = round(low + 0.05 + (high - low - 0.1) * rng.random() ** skew, 4)
    if mix.draft:
        category, title, rec = draft_comment(rng, places, kind)
        topic = None
    else:
        topics = [t for t in TOPICS if t["cat"] in campaign["categories"]
                  and (not mix.tags or any(tag in t["tags"] for tag in mix.tags))]
        fitting = [t for t in topics if fits(t, kind)]
        if not fitting:
            kind, fitting = "suggestion", topics
        topic = rng.choice(fitting)
        category = topic["cat"]
        rec = BUILDERS[kind](rng, topic, places, mix)
        title = make_title(rng, kind, topic, places, mix)
    body = _fit_length(rng, rec)
    return _Item(key, category, kind, topic, places, rec, title, body, _author(rng), days)


def _fit_length(rng: random.Random, rec: Recipe) -> str:
    """Render, trimming optional parts above 600 characters and adding the topic's unused ones below 80."""
    text = rec.render()
    while len(text) > 600 and (len(rec.asks) > 1 or len(rec.main) > 1 or rec.tail):
        if rec.tail:
            rec.tail = []
        elif len(rec.asks) > 1:
            rec.spare.append(rec.asks.pop())
        else:
            rec.main.pop(0)
        text = rec.render()
    padding = [x for x in rec.more if x not in rec.main]
    padding += rng.sample(QUESTION_EXTRAS if rec.kind == "question" else EXTRA_CLAUSES, 2)
    padding = [x for x in padding if x not in rec.main]
    while len(text) < 80:
        extra = padding.pop(0) if padding else rng.choice(EXTRA_CLAUSES)
        at = len(rec.main) - 1 if rec.kind in ("question", "thanks") else len(rec.main)
        rec.main.insert(max(at, 0), extra)
        text = rec.render()
    return text


def _near_duplicate(rng: random.Random, src: _Item, index: int) -> _Item:
    """Someone (often someone else) writes the same idea again, a little later."""
    rec = _rewrite_recipe(rng, src.recipe, src.places, src.topic)
    traditional = rng.random() < 0.08
    body = _rewrite_text(rng, _fit_length(rng, rec), traditional)
    if body == src.body:  # nothing changed by chance: swap every word that has a synonym, or sign off differently
        body = _swap_words(rng, body, 1.0)
        if body == src.body:
            body += "谢谢！" if not body.endswith("谢谢！") else "盼复。"
    title = _rewrite_title(rng, src.title, src.kind, src.topic, src.places, MIXES[src.campaign])
    if traditional:
        title = title.translate(TRADITIONAL)
    author = src.author if rng.random() < 0.2 else _author(rng)
    low, _ = _window(_CAMPAIGNS_BY_KEY[src.campaign])
    days = round(rng.uniform(low, src.days - 0.002), 4)
    return _Item(src.campaign, src.category, src.kind, src.topic, src.places, rec, title, body, author, days, index)


def _repost(rng: random.Random, src: _Item, index: int) -> _Item:
    """The same author posts exactly the same text again, minutes or hours later."""
    low, _ = _window(_CAMPAIGNS_BY_KEY[src.campaign])
    days = round(max(low + 0.0005, src.days - rng.uniform(0.002, 0.3)), 4)
    return _Item(src.campaign, src.category, src.kind, src.topic, src.places, src.recipe, src.title, src.body,
                 src.author, days, index)


def generate_proposals(seed: int, n: int = 2400) -> list[dict]:
    """Deterministic proposals across CAMPAIGNS, oldest first, ~15% near-duplicates and ~1% exact re-posts.

    ``near_duplicate_of`` is the index (in the returned list) of the earlier proposal that one rewrites
    or re-posts, otherwise None; ``subject`` (the topic's subject, None for comments on the draft) and ``places``
    (the place names it uses) say what it is about, for the demo's labelled same-issue pairs (``demo.issue_pairs``).
    """
    rng = random.Random(f"jianyan-proposals-{seed}")
    n_repost = round(n * 0.01)
    n_near = round(n * 0.15)
    counts = _allocate(n - n_near - n_repost, {k: m.weight for k, m in MIXES.items()})
    items = [_original(rng, key) for key, count in counts.items() for _ in range(count)]
    originals = len(items)
    for _ in range(n_near):
        i = rng.randrange(len(items)) if rng.random() < 0.2 else rng.randrange(originals)
        items.append(_near_duplicate(rng, items[i], i))
    for _ in range(n_repost):
        i = rng.randrange(originals)
        items.append(_repost(rng, items[i], i))
    order = sorted(range(len(items)), key=lambda i: (-items[i].days, i))  # oldest first, like database ids
    position = {old: new for new, old in enumerate(order)}
    return [{"campaign": it.campaign, "title": it.title, "body": it.body, "category": it.category,
             "message_type": it.kind, "author": it.author, "days_ago": it.days,
             "near_duplicate_of": None if it.dup_of is None else position[it.dup_of],
             "subject": it.topic["s"] if it.topic else None, "places": dict(it.places.values)}
            for it in (items[i] for i in order)]
