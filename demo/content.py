"""Jianyan's own demo content: bodies, campaigns, citizens, proposals and replies.

Pure standard-library code with no Flask and no database; ``demo.load`` puts the result into the
database. Every function that uses randomness takes a seed and works on its own ``random.Random``,
so the same seed always gives the same data. The places (江南省, 临川市, 青溪县, 云岭市, 丰源县) and
everything written in them are fictional; the text was written for this project.
"""
import random
import re
from dataclasses import dataclass, field

from demo.catalogue import _CAMPAIGNS_BY_KEY, BODIES, CAMPAIGNS, CATEGORIES  # noqa: F401 - public API
from demo.replies import DECISIONS, generate_reply  # noqa: F401 - public API
from demo.topics import (
    ASK_STYLES,
    CAUSE_LEADS,
    COMPLAINT_SIGNOFFS,
    DEFAULT_DEPT,
    DRAFT_ARTICLES,
    DRAFT_GENERAL_FRAMES,
    DRAFT_QUESTION_FRAMES,
    DRAFT_READ,
    DRAFT_ROLES,
    DRAFT_SHORT,
    DRAFT_SIGNOFFS,
    DRAFT_TITLE,
    DRAFT_TITLE_FRAMES,
    DURATIONS,
    EFFECTS,
    EXTRA_CLAUSES,
    FEELINGS,
    GIVEN_NAMES,
    GREETINGS,
    HELP_CLOSERS,
    HELP_TRIED,
    INTROS_POLICY,
    INTROS_RURAL,
    INTROS_URBAN,
    LOCALES,
    NICK_PLACES,
    NICKNAMES,
    POLICY_EFFECTS,
    QUESTION_CLOSERS,
    QUESTION_EXTRAS,
    SIGNOFFS,
    SURNAMES,
    SYNONYMS,
    THANKS_CLOSERS,
    THANKS_PRAISE,
    THANKS_REPORTED,
    THANKS_RESPONSE,
    THANKS_TIMES,
    TITLE_FRAMES,
    TOPICS,
    TRADITIONAL_PAIRS,
    TRIED_RURAL,
    TRIED_URBAN,
    VERB_STARTS,
)

MESSAGE_TYPES = ("suggestion", "complaint", "help", "question", "thanks")
N_AUTHORS = 600  # proposals name authors 0..599 (indexes into generate_citizens)

# --------------------------------------------------------------------------- how each campaign's proposals look

@dataclass(frozen=True)
class _Mix:
    """How a campaign's proposals are made: share, places, message types and which topics fit it."""
    weight: int
    locales: tuple[str, ...]
    types: tuple[float, ...]          # weights in MESSAGE_TYPES order
    tags: tuple[str, ...] = ()        # a topic must carry one of these tags; () = any topic
    intros: tuple[str, ...] = ()      # openings that refer to the campaign
    titles: tuple[str, ...] = ()      # extra title patterns for suggestions
    effects: tuple[str, ...] = ()
    draft: bool = False               # comments on the ministry draft instead of topics


MIXES = {
    "lc-people-suggestions": _Mix(620, ("linchuan",) * 4 + ("qingxi",), (0.33, 0.24, 0.15, 0.16, 0.12),
                                  intros=("一直想反映这个事情，今天终于找到了渠道。",
                                          "看到有人民建议征集这个渠道，想说说{s}的事。")),
    "prov-15th-plan": _Mix(
        520, ("linchuan", "qingxi", "yunling", "fengyuan"), (0.86, 0, 0, 0.14, 0), tags=("policy",),
        intros=("看到省人大常委会征集“十五五”规划建议，我就{s}谈几点想法。",
                "“十五五”时期是全面推进现代化建设的关键阶段，我想就{s}提一点建议。",
                "很高兴能为全省“十五五”规划建言献策，下面就{s}说说我的看法。"),
        titles=("关于“十五五”期间{s}的建议", "建议将{s}纳入“十五五”规划", "“十五五”规划应重视{s}",
                "对“十五五”时期{s}的几点建议", "关于在“十五五”规划中加强{s}的建议", "{s}应作为“十五五”的重点任务",
                "建议“十五五”期间{city}加快{s}", "关于“十五五”时期{city}{s}的思考", "“十五五”期间{county}{s}的建议"),
        effects=("建议在规划中明确目标任务和责任分工，一张蓝图绘到底。", "这不仅是民生问题，也关系到全省的长远发展。",
                 "希望在“十五五”期间能看到实实在在的变化。")),
    "qx-road-safety": _Mix(240, ("qingxi",), (0.5, 0.32, 0.06, 0.05, 0.07), tags=("road",),
                           intros=("看到县交警大队在征集道路交通安全隐患，我来反映一处隐患。",
                                   "响应这次交通安全隐患征集活动，反映一个我每天都会碰到的问题。"),
                           titles=("交通安全隐患：{place}{s}", "{place}{s}存在交通安全隐患")),
    "moe-after-school-draft": _Mix(170, ("linchuan", "yunling", "qingxi"), (0.8, 0, 0, 0.2, 0), draft=True),
    "prov-cppcc-rural": _Mix(
        200, ("qingxi", "fengyuan", "linchuan", "yunling"), (0.78, 0.05, 0.07, 0.1, 0), tags=("rural",),
        intros=("看到省政协就乡村振兴征集意见，作为一名在农村长大的人，想就{s}说几句。",
                "乡村振兴，{s}是绕不开的问题。"),
        titles=("关于推进乡村振兴中{s}的建议", "乡村振兴要重视{s}"),
        effects=("乡村振兴，关键是让农民得到实实在在的好处。",)),
    "lc-old-communities": _Mix(
        230, ("linchuan",), (0.55, 0.2, 0.05, 0.15, 0.05), tags=("oldcomm",),
        intros=("听说我们小区有望列入这批老旧小区改造，大家都很期待，借这个机会反映一下{s}的问题。",
                "老旧小区改造是民心工程，希望改造时能把{s}的问题一并解决。"),
        titles=("{place}改造时请考虑{s}问题", "老旧小区改造中{s}的建议")),
    "yl-elderly-care": _Mix(150, ("yunling", "fengyuan"), (0.55, 0.08, 0.15, 0.15, 0.07), tags=("elder",),
                            intros=("家里有老人，对养老服务深有体会。",
                                    "看到民政局在征集养老服务意见，想就{s}提点建议。")),
    "lc-business-env": _Mix(130, ("linchuan",), (0.72, 0.13, 0.05, 0.1, 0), tags=("biz",),
                            intros=("作为一名在{city}经营了{n:5-20}年的个体工商户，对营商环境有切身体会。",
                                    "看到市人大就营商环境条例草案征求意见，我结合自己企业的经历谈几点看法。"),
                            titles=("关于条例草案中{s}相关内容的建议", "条例应对{s}作出明确规定")),
    "qx-livelihood": _Mix(140, ("qingxi",), (0.62, 0.1, 0.08, 0.1, 0.1), tags=("local",),
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


# --------------------------------------------------------------------------- filling placeholders

_PLACEHOLDER = re.compile(r"\{(\w+)(?::(\d+)-(\d+))?\}")
BUS_LINES = (1, 2, 3, 5, 6, 8, 9, 11, 12, 15, 16, 18, 21, 23, 26, 28, 31, 35, 102)
_PLACE_KEYS = ("village", "community", "school", "road", "hospital", "market", "scenic", "station", "park", "town")


class _Places:
    """The places of one proposal: a name, once chosen, stays the same in every sentence of it."""

    def __init__(self, locale: str):
        self.locale = locale
        self.values: dict[str, str] = {}

    def get(self, rng: random.Random, key: str) -> str:
        if key not in self.values:
            loc = LOCALES[self.locale]
            if key == "road2":
                self.values[key] = rng.choice([r for r in loc["road"] if r != self.get(rng, "road")])
            elif key == "bus":
                self.values[key] = str(rng.choice(BUS_LINES))
            else:
                self.values[key] = rng.choice(loc[key])
        return self.values[key]

    def fill(self, rng: random.Random, text: str, **extra: str) -> str:
        """Replace {key}, {key} given in extra, and {n:a-b} (a fresh number each time)."""
        def one(m: re.Match) -> str:
            key, low, high = m.groups()
            if low is not None:
                return _natural_number(rng.randint(int(low), int(high)), m.string[m.end():m.end() + 3])
            if key in extra:
                return self.fill(rng, extra[key])
            return self.get(rng, key)
        return _PLACEHOLDER.sub(one, text)


def _natural_number(value: int, after: str) -> str:
    """Numbers as people write them: "300多户", "6500元" rather than "318多户", "6531元"; years stay as they are."""
    if after.startswith("年") and value > 1900:
        return str(value)
    if after.startswith("多") or "左右" in after:
        step = 100 if value >= 100 else 10 if value >= 20 else 1
        return str(value // step * step)
    if value >= 1000:
        return str(round(value, -2))
    return str(value)


def _place_key(topic: dict) -> str:
    """The placeholder that best names where a topic's problem is, for titles like "{place}{s}问题"."""
    text = "".join(topic["t"] + topic["p"])
    for key in _PLACE_KEYS:
        if "{" + key + "}" in text:
            return key
    return "district"


def _dept(topic: dict | None, category: str, places: _Places) -> str:
    """The department that would handle this topic in this locale, e.g. 青溪县交通运输局."""
    suffix = (topic or {}).get("dept") or DEFAULT_DEPT[category]
    return LOCALES[places.locale]["prefix"] + suffix


def _who(topic: dict) -> str:
    """Who the matter concerns, for phrases like "周边{who}意见很大"."""
    problems = "".join(topic["p"])
    if "{village}" in problems or "{town}" in problems or ("rural" in topic["tags"] and "local" not in topic["tags"]):
        return "村民"
    if "elder" in topic["tags"]:
        return "老人"
    if topic["cat"] == "education":
        return "家长"
    return "居民"


# --------------------------------------------------------------------------- proposal bodies

@dataclass
class _Recipe:
    """A proposal body in parts, so that a near-duplicate can be written by changing the parts."""
    kind: str                                      # message type
    greet: str = ""
    main: list[str] = field(default_factory=list)  # whole sentences: intro, problem, cause, question …
    asks: list[str] = field(default_factory=list)  # verb phrases joined by the ask style
    spare: list[str] = field(default_factory=list)  # proposals not used yet (a rewrite may add one)
    style: int = 0
    dept: str = ""
    tail: list[str] = field(default_factory=list)
    sign: str = ""
    brk: bool = False                              # new paragraph before the asks
    core: list[str] = field(default_factory=list)  # sentences a rewrite must keep (the question, the plight …)
    more: list[str] = field(default_factory=list)  # unused sentences of the topic, to lengthen a short text

    def copy(self) -> "_Recipe":
        return _Recipe(self.kind, self.greet, list(self.main), list(self.asks), list(self.spare), self.style,
                       self.dept, list(self.tail), self.sign, self.brk, list(self.core), list(self.more))

    def render(self) -> str:
        text = self.greet + "".join(self.main)
        if self.asks:
            text += ("\n" if self.brk else "") + _render_asks(self.kind, self.style, self.asks, self.dept)
        return (text + "".join(self.tail) + self.sign).strip()


_CN_NUM = "一二三四五"
_NUMBERED = 5  # suggestion styles from this index on list the asks and need two or more
_NEEDS_VERB = ("希望能{x}。", "能否{x}？", "希望这次能{x}，不要再推诿了。", "希望能{x}，帮我们渡过难关。")


def _render_asks(kind: str, style: int, asks: list[str], dept: str) -> str:
    styles = ASK_STYLES[kind]
    template = styles[style % len(styles)]
    if len(asks) < 2 and kind == "suggestion" and style >= _NUMBERED:
        template = styles[0]
    if template in _NEEDS_VERB and not asks[0].startswith(VERB_STARTS):
        template = styles[0] if kind != "help" else styles[2]
    joined = asks[0] if len(asks) == 1 else "，".join(asks[:-1]) + "，同时" + asks[-1]
    numbered = "；".join(f"{_CN_NUM[i]}是{a}" for i, a in enumerate(asks))
    lines = "\n".join(f"{i + 1}. {a}{'；' if i < len(asks) - 1 else '。'}" for i, a in enumerate(asks))
    return template.format(x=joined, n=numbered, l=lines, dept=dept or "有关部门")


def _problems(rng: random.Random, topic: dict, k: int, fill) -> tuple[list[str], list[str]]:
    """(k problem sentences, the unused ones): always the first, which stands on its own, then others in order."""
    rest = topic["p"][1:]
    picked = sorted(rng.sample(range(len(rest)), min(k - 1, len(rest))))
    used = [topic["p"][0]] + [rest[i] for i in picked]
    return [fill(x) for x in used], [fill(x) for x in topic["p"] if x not in used]


def _intro(rng: random.Random, topic: dict, mix: _Mix) -> str:
    """An opening sentence: about the campaign, about the writer, or nothing."""
    r = rng.random()
    if mix.intros and r < 0.4:
        return rng.choice(mix.intros)
    if r < 0.75:
        if "local" not in topic["tags"]:
            return rng.choice(INTROS_POLICY)
        if _who(topic) == "村民":
            return rng.choice(INTROS_RURAL)
        return rng.choice(INTROS_URBAN)
    return ""


def _suggestion(rng: random.Random, topic: dict, places: _Places, mix: _Mix) -> _Recipe:
    """Problem, perhaps its cause, one to three proposals, perhaps the expected effect."""
    fill = lambda s: places.fill(rng, s, s=topic["s"])  # noqa: E731
    rec = _Recipe("suggestion", dept=_dept(topic, topic["cat"], places))
    rec.greet = rng.choice(GREETINGS) if rng.random() < 0.25 else ""
    intro = _intro(rng, topic, mix)
    rec.main = [fill(intro)] if intro else []
    long_form = rng.random() < 0.2  # some people write at length: every problem, every cause, a list of proposals
    problems, rec.more = _problems(rng, topic, 9 if long_form else rng.choice((1, 2, 2, 3, 3)), fill)
    rec.main += problems
    rec.core = problems[:1]
    causes = [rng.choice(CAUSE_LEADS) + fill(c) for c in rng.sample(topic["c"], len(topic["c"]))]
    if long_form:
        rec.main += causes
        causes = []
    elif rng.random() < 0.7:
        rec.main.append(causes.pop(0))
    rec.more += causes
    asks = rng.sample(topic["a"], len(topic["a"]))
    k = len(asks) if long_form else rng.choices((1, 2, 3, 4), (0.2, 0.4, 0.3, 0.1))[0]
    rec.asks, rec.spare = [fill(a) for a in asks[:k]], asks[k:]
    rec.style = rng.randrange(_NUMBERED, len(ASK_STYLES["suggestion"])) if long_form else \
        rng.randrange(len(ASK_STYLES["suggestion"]))
    rec.brk = long_form or rng.random() < 0.3
    if long_form or rng.random() < 0.55:
        pool = list(mix.effects) + (EFFECTS if "local" in topic["tags"] else POLICY_EFFECTS)
        rec.tail = [fill(rng.choice(pool).replace("{who}", _who(topic)))]
    rec.sign = rng.choice([x for x in SIGNOFFS if not (rec.tail and x[:2] == rec.tail[0][:2])]) \
        if rng.random() < 0.4 else ""
    return rec


def _complaint(rng: random.Random, topic: dict, places: _Places, mix: _Mix) -> _Recipe:
    """What is wrong, for how long, who was already asked, and what must be done."""
    fill = lambda s: places.fill(rng, s, s=topic["s"])  # noqa: E731
    rural = _who(topic) == "村民"
    rec = _Recipe("complaint", dept=_dept(topic, topic["cat"], places))
    rec.greet = rng.choice(GREETINGS) if rng.random() < 0.3 else ""
    rec.main = [fill(rng.choice(INTROS_RURAL if rural else INTROS_URBAN))] if rng.random() < 0.3 else []
    problems, rec.more = _problems(rng, topic, rng.choice((1, 2, 2, 3)), fill)
    rec.main += problems
    rec.core = problems[:1]
    rec.main.append(fill(rng.choice(DURATIONS)))
    if rng.random() < 0.7:
        rec.main.append(fill(rng.choice(TRIED_RURAL if rural else TRIED_URBAN)))
    if rng.random() < 0.5:
        rec.main.append(rng.choice(FEELINGS).replace("{who}", _who(topic)))
    asks = rng.sample(topic["a"], len(topic["a"]))
    k = rng.choice((1, 1, 2))
    rec.asks, rec.spare = [fill(a) for a in asks[:k]], asks[k:]
    rec.style = rng.randrange(len(ASK_STYLES["complaint"]))
    rec.sign = rng.choice(COMPLAINT_SIGNOFFS) if rng.random() < 0.5 else ""
    return rec


def _help(rng: random.Random, topic: dict, places: _Places, mix: _Mix) -> _Recipe:
    """A personal plight, what was tried, and a plea."""
    fill = lambda s: places.fill(rng, s, s=topic["s"])  # noqa: E731
    rec = _Recipe("help", dept=_dept(topic, topic["cat"], places))
    rec.greet = rng.choice(GREETINGS) if rng.random() < 0.5 else ""
    rec.main = [fill(topic["h"])]
    rec.core = list(rec.main)
    problems, rec.more = _problems(rng, topic, rng.choice((1, 2)), fill)
    if rng.random() < 0.7:
        rec.main += problems
    else:
        rec.more = problems + rec.more
    rec.main.append(rng.choice(HELP_TRIED))
    asks = rng.sample(topic["a"], len(topic["a"]))
    rec.asks, rec.spare = [fill(asks[0])], asks[1:]
    rec.style = rng.randrange(len(ASK_STYLES["help"]))
    rec.sign = rng.choice(HELP_CLOSERS)
    return rec


def _question(rng: random.Random, topic: dict, places: _Places, mix: _Mix) -> _Recipe:
    """A consultation: some context and the question."""
    fill = lambda s: places.fill(rng, s, s=topic["s"])  # noqa: E731
    rec = _Recipe("question", dept=_dept(topic, topic["cat"], places))
    rec.greet = rng.choice(GREETINGS) if rng.random() < 0.4 else ""
    intro = _intro(rng, topic, mix) if rng.random() < 0.6 else ""
    rec.main = [fill(intro)] if intro else []
    problems, rec.more = _problems(rng, topic, rng.choice((1, 2)), fill)
    if rng.random() < 0.75:
        rec.main += problems
    else:
        rec.more = problems + rec.more
    rec.main.append(fill(topic["q"]))
    rec.core = [rec.main[-1]] + problems[:1]
    if rng.random() < 0.5:
        rec.main.append(rng.choice(QUESTION_EXTRAS))
    rec.sign = rng.choice(QUESTION_CLOSERS)
    return rec


def _thanks(rng: random.Random, topic: dict, places: _Places, mix: _Mix) -> _Recipe:
    """What was reported, how the department responded, what changed, and thanks."""
    dept = _dept(topic, topic["cat"], places)
    fill = lambda s: places.fill(rng, s, s=topic["s"], dept=dept, place="{" + _place_key(topic) + "}",  # noqa: E731
                                 time=rng.choice(THANKS_TIMES))
    rec = _Recipe("thanks", dept=dept)
    rec.greet = rng.choice(["各位领导好！", "您好！", "", ""])
    reported = rng.choice(THANKS_REPORTED).replace("{place}{s}", _place_and_subject(rng, topic, places))
    rec.main = [fill(reported), fill(rng.choice(THANKS_RESPONSE)), fill(topic["d"])]
    rec.core = list(rec.main)
    if rng.random() < 0.6:
        rec.main.append(fill(rng.choice(THANKS_PRAISE).replace("{who}", _who(topic))))
    rec.sign = fill(rng.choice(THANKS_CLOSERS))
    return rec


_BUILDERS = {"suggestion": _suggestion, "complaint": _complaint, "help": _help, "question": _question,
             "thanks": _thanks}


def _fits(topic: dict, kind: str) -> bool:
    """Whether a topic can carry a message of this type."""
    if kind == "complaint":
        return "local" in topic["tags"]
    if kind == "help":
        return bool(topic["h"])
    if kind == "question":
        return bool(topic["q"])
    if kind == "thanks":
        return bool(topic["d"]) and "local" in topic["tags"]
    return True


# Words a subject may start with that a place name of that kind already says.
_GENERIC_HEADS = {"community": "老旧小区|小区|老楼", "market": "农贸市场", "school": "学校", "hospital": "医院",
                  "village": "农村|村组|村"}


def _place_and_subject(rng: random.Random, topic: dict, places: _Places) -> str:
    """Place and subject run together without repeating a word: "青溪高铁站" + "高铁站接驳" → "青溪高铁站接驳"."""
    key = _place_key(topic)
    place, subject = places.get(rng, key), topic["s"]
    if key in _GENERIC_HEADS:  # "城南小区" + "老旧小区加装电梯" → "城南小区加装电梯"
        subject = re.sub(f"^({_GENERIC_HEADS[key]})", "", subject)
    for k in range(min(len(place), len(subject)), 1, -1):
        if place.endswith(subject[:k]):
            return place + subject[k:]
    return place + subject


def _title(rng: random.Random, kind: str, topic: dict, places: _Places, mix: _Mix) -> str:
    """A title that reads like a real one, 8–40 characters."""
    own = topic["t"]
    plain = [t for t in own if not t.startswith("关于") and "建议" not in t]  # statements of a problem
    policy_only = "local" not in topic["tags"]
    for _ in range(12):
        r = rng.random()
        if kind == "suggestion":
            if mix.titles and r < 0.4:
                frame = rng.choice(mix.titles)
            elif r < 0.75:
                frame = rng.choice(own)
                if "{" not in frame and rng.random() < 0.5:  # a title with no place in it would repeat too often
                    continue
            else:
                frame = rng.choice(TITLE_FRAMES["policy" if policy_only else "suggestion"])
        elif kind == "complaint":
            frame = rng.choice(plain) if plain and r < 0.55 else rng.choice(TITLE_FRAMES["complaint"])
            if "{" not in frame and rng.random() < 0.5:
                continue
        else:
            frame = rng.choice(TITLE_FRAMES[kind])
            if kind == "thanks" and "{place}" not in frame and rng.random() < 0.7:
                continue  # "为某某局点赞" alone would repeat too often
        if "{t}" in frame and not plain:
            continue
        if "{t}" in frame and rng.random() < 0.5:
            frame = frame.replace("{t}", rng.choice([t for t in plain if "{" in t] or plain))
        frame = frame.replace("{place}{s}", _place_and_subject(rng, topic, places))
        title = places.fill(rng, frame, s=topic["s"], place="{" + _place_key(topic) + "}",
                            dept=_dept(topic, topic["cat"], places), t=rng.choice(plain) if plain else "")
        if 8 <= len(title) <= 40:
            return title
    return f"关于{topic['s']}的建议"


def _draft_comment(rng: random.Random, places: _Places, kind: str) -> tuple[str, str, _Recipe]:
    """A comment on one article of the ministry's draft: (category, title, body recipe)."""
    art = rng.choice([a for a in DRAFT_ARTICLES if a["q"]] if kind == "question" else DRAFT_ARTICLES)
    com = rng.choice(art["comments"])
    general = art["no"] == "总体意见"
    fmt = dict(draft=DRAFT_SHORT, no=art["no"], subject=art["subject"], short=com["short"])
    rec = _Recipe("draft" if kind == "suggestion" else kind)
    rec.greet = rng.choice(["", "", "您好！", "尊敬的起草部门：\n", "教育部领导：您好！"])
    rec.main = [places.fill(rng, rng.choice(DRAFT_ROLES))] if rng.random() < 0.7 else []
    read = rng.choice(DRAFT_READ).format(draft=DRAFT_TITLE)
    if kind == "question":
        rec.main.append(read + f"有一个问题想请教：{art['q']}")
        rec.sign = rng.choice(QUESTION_CLOSERS)
        title = rng.choice(DRAFT_QUESTION_FRAMES).format(**fmt)
        return art["cat"], title, rec
    if general:
        rec.main.append(read + "提一点总体意见。" + com["opinion"])
        title = rng.choice(DRAFT_GENERAL_FRAMES).format(**fmt)
    else:
        rec.main.append(read + f"{art['no']}规定“{art['quote']}”。")
        rec.main.append(com["opinion"])
        title = rng.choice(DRAFT_TITLE_FRAMES).format(**fmt)
    rec.asks = [com["change"]]
    rec.style = rng.randrange(len(ASK_STYLES["draft"]))
    rec.tail = [com["reason"]] if rng.random() < 0.85 else []
    rec.sign = rng.choice(DRAFT_SIGNOFFS) if rng.random() < 0.5 else ""
    return art["cat"], title, rec


# --------------------------------------------------------------------------- near-duplicates

_SYNONYM_RE = re.compile("|".join(sorted(SYNONYMS, key=len, reverse=True)))
TRADITIONAL = str.maketrans(*TRADITIONAL_PAIRS)  # a few common characters in their Traditional form

def _swap_words(rng: random.Random, text: str, p: float) -> str:
    """Replace some words with synonyms, each occurrence with probability p."""
    return _SYNONYM_RE.sub(lambda m: rng.choice(SYNONYMS[m.group()]) if rng.random() < p else m.group(), text)


def _rewrite_recipe(rng: random.Random, rec: _Recipe, places: _Places, topic: dict | None) -> _Recipe:
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


def _rewrite_title(rng: random.Random, title: str, kind: str, topic: dict | None, places: _Places, mix: _Mix) -> str:
    """Usually a different title for the same idea; sometimes the same words, slightly changed."""
    r = rng.random()
    if topic is not None and r < 0.55:
        for _ in range(5):
            other = _title(rng, kind, topic, places, mix)
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
    places: _Places
    recipe: _Recipe
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
    places = _Places(rng.choice(mix.locales))
    low, high = _window(campaign)
    skew = 1.4 if campaign["closes_in_days"] is None else 1.0  # a standing channel: more of it recent
    days = round(low + 0.05 + (high - low - 0.1) * rng.random() ** skew, 4)
    if mix.draft:
        category, title, rec = _draft_comment(rng, places, kind)
        topic = None
    else:
        topics = [t for t in TOPICS if t["cat"] in campaign["categories"]
                  and (not mix.tags or any(tag in t["tags"] for tag in mix.tags))]
        fitting = [t for t in topics if _fits(t, kind)]
        if not fitting:
            kind, fitting = "suggestion", topics
        topic = rng.choice(fitting)
        category = topic["cat"]
        rec = _BUILDERS[kind](rng, topic, places, mix)
        title = _title(rng, kind, topic, places, mix)
    body = _fit_length(rng, rec)
    return _Item(key, category, kind, topic, places, rec, title, body, _author(rng), days)


def _fit_length(rng: random.Random, rec: _Recipe) -> str:
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
    or re-posts, otherwise None.
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
             "near_duplicate_of": None if it.dup_of is None else position[it.dup_of]}
            for it in (items[i] for i in order)]
