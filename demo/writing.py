"""How one demo proposal is written: places filled into placeholders, and the sentences of a suggestion,
complaint, request for help, question or thanks (or a comment on the ministry's draft) put in order.

Used by ``demo.content``, which decides which proposals to write; pure standard-library code.
"""
import random
import re
from dataclasses import dataclass, field

from demo.phrases import (
    ASK_STYLES,
    CAUSE_LEADS,
    COMPLAINT_SIGNOFFS,
    DEFAULT_DEPT,
    DURATIONS,
    EFFECTS,
    FEELINGS,
    GREETINGS,
    HELP_CLOSERS,
    HELP_TRIED,
    INTROS_POLICY,
    INTROS_RURAL,
    INTROS_URBAN,
    LOCALES,
    POLICY_EFFECTS,
    QUESTION_CLOSERS,
    QUESTION_EXTRAS,
    SIGNOFFS,
    THANKS_CLOSERS,
    THANKS_PRAISE,
    THANKS_REPORTED,
    THANKS_RESPONSE,
    THANKS_TIMES,
    TITLE_FRAMES,
    TRIED_RURAL,
    TRIED_URBAN,
    VERB_STARTS,
)


@dataclass(frozen=True)
class Mix:
    """How a campaign's proposals are made: share, places, message types and which topics fit it."""
    weight: int
    locales: tuple[str, ...]
    types: tuple[float, ...]          # weights in MESSAGE_TYPES order
    tags: tuple[str, ...] = ()        # a topic must carry one of these tags; () = any topic
    intros: tuple[str, ...] = ()      # openings that refer to the campaign
    titles: tuple[str, ...] = ()      # extra title patterns for suggestions
    effects: tuple[str, ...] = ()
    draft: bool = False               # comments on the ministry draft instead of topics


# --------------------------------------------------------------------------- filling placeholders

_PLACEHOLDER = re.compile(r"\{(\w+)(?::(\d+)-(\d+))?\}")
BUS_LINES = (1, 2, 3, 5, 6, 8, 9, 11, 12, 15, 16, 18, 21, 23, 26, 28, 31, 35, 102)
_PLACE_KEYS = ("village", "community", "school", "road", "hospital", "market", "scenic", "station", "park", "town")


class Places:
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


def _dept(topic: dict | None, category: str, places: Places) -> str:
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
class Recipe:
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

    def copy(self) -> "Recipe":
        return Recipe(self.kind, self.greet, list(self.main), list(self.asks), list(self.spare), self.style,
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


def _intro(rng: random.Random, topic: dict, mix: Mix) -> str:
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


def _suggestion(rng: random.Random, topic: dict, places: Places, mix: Mix) -> Recipe:
    """Problem, perhaps its cause, one to three proposals, perhaps the expected effect."""
    fill = lambda s: places.fill(rng, s, s=topic["s"])  # noqa: E731
    rec = Recipe("suggestion", dept=_dept(topic, topic["cat"], places))
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


def _complaint(rng: random.Random, topic: dict, places: Places, mix: Mix) -> Recipe:
    """What is wrong, for how long, who was already asked, and what must be done."""
    fill = lambda s: places.fill(rng, s, s=topic["s"])  # noqa: E731
    rural = _who(topic) == "村民"
    rec = Recipe("complaint", dept=_dept(topic, topic["cat"], places))
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


def _help(rng: random.Random, topic: dict, places: Places, mix: Mix) -> Recipe:
    """A personal plight, what was tried, and a plea."""
    fill = lambda s: places.fill(rng, s, s=topic["s"])  # noqa: E731
    rec = Recipe("help", dept=_dept(topic, topic["cat"], places))
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


def _question(rng: random.Random, topic: dict, places: Places, mix: Mix) -> Recipe:
    """A consultation: some context and the question."""
    fill = lambda s: places.fill(rng, s, s=topic["s"])  # noqa: E731
    rec = Recipe("question", dept=_dept(topic, topic["cat"], places))
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


def _thanks(rng: random.Random, topic: dict, places: Places, mix: Mix) -> Recipe:
    """What was reported, how the department responded, what changed, and thanks."""
    dept = _dept(topic, topic["cat"], places)
    fill = lambda s: places.fill(rng, s, s=topic["s"], dept=dept, place="{" + _place_key(topic) + "}",  # noqa: E731
                                 time=rng.choice(THANKS_TIMES))
    rec = Recipe("thanks", dept=dept)
    rec.greet = rng.choice(["各位领导好！", "您好！", "", ""])
    reported = rng.choice(THANKS_REPORTED).replace("{place}{s}", _place_and_subject(rng, topic, places))
    rec.main = [fill(reported), fill(rng.choice(THANKS_RESPONSE)), fill(topic["d"])]
    rec.core = list(rec.main)
    if rng.random() < 0.6:
        rec.main.append(fill(rng.choice(THANKS_PRAISE).replace("{who}", _who(topic))))
    rec.sign = fill(rng.choice(THANKS_CLOSERS))
    return rec


BUILDERS = {"suggestion": _suggestion, "complaint": _complaint, "help": _help, "question": _question,
             "thanks": _thanks}


def fits(topic: dict, kind: str) -> bool:
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


def _place_and_subject(rng: random.Random, topic: dict, places: Places) -> str:
    """Place and subject run together without repeating a word: "青溪高铁站" + "高铁站接驳" → "青溪高铁站接驳"."""
    key = _place_key(topic)
    place, subject = places.get(rng, key), topic["s"]
    if key in _GENERIC_HEADS:  # "城南小区" + "老旧小区加装电梯" → "城南小区加装电梯"
        subject = re.sub(f"^({_GENERIC_HEADS[key]})", "", subject)
    for k in range(min(len(place), len(subject)), 1, -1):
        if place.endswith(subject[:k]):
            return place + subject[k:]
    return place + subject


def make_title(rng: random.Random, kind: str, topic: dict, places: Places, mix: Mix) -> str:
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
