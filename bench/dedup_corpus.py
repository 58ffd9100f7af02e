"""The planted corpus of ``python -m bench.dedup speed``: base proposals built from the demo generator's sentences,
and near-duplicates of some of them (``variant``: 10-30% of characters edited), with the scores of a clustering on
the planted pairs."""
import difflib
import random
import re
from collections import Counter

from demo import phrases as demo_phrases
from demo.content import MIXES, generate_proposals

SYNONYMS = {**demo_phrases.SYNONYMS, "建议": ["希望", "恳请", "提议"], "希望": ["期望", "盼望", "恳请"],
            "解决": ["处理", "整改"], "非常": ["十分", "特别", "很"], "小区": ["社区", "院子"],
            "问题": ["情况", "事情"],
            "居民": ["住户", "群众"], "政府": ["有关方面", "相关单位"], "很": ["非常", "挺"], "由于": ["因为"]}
SYNONYM_RE = re.compile("|".join(sorted(SYNONYMS, key=len, reverse=True)))
FILLERS = demo_phrases.EXTRA_CLAUSES + ["说实话，", "这件事拖了很久，", "我再补充一点，", "据我了解，", "请务必重视，",
                                       "大家都很着急。", "麻烦尽快回复。", "我已经打过热线电话。"]
EDIT_BUDGET = (0.16, 0.46)
"""Share of characters a variant edits, drawn uniformly (insertions count fully here, half in difflib terms)."""
NOISE_CHARS = "的一是在不了有和人这中大为上个我以要他时来用们生到作地于出就分对成会可发年动同工也能下过子说多行家里小"
CLAUSE_RE = re.compile(r"[^。；！？\n]+[。；！？\n]?")
PHRASE_RE = re.compile(r"[^，。；！？\n]+[，。；！？\n]?")


NAME_CHARS = "东西南北中新老金银青红白长安平和兴华建明光康宁福泰丰顺永春秋云山河湖海桥林松柏梅兰竹菊嘉瑞祥荣"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
ROADS = ["路", "大道", "街", "巷", "大街"]
ESTATES = ["花园", "小区", "新村", "家园", "公寓", "苑", "府", "雅居", "名都", "佳园"]
SPOTS = ["路口", "超市门口", "菜市场旁", "公交站", "天桥下", "幼儿园门口", "药店旁", "银行门口", "公园东门",
         "停车场出口"]
DETAILS = ["我家住在{place}{a}号楼{b}单元。", "{month}月{day}日那天，我在{spot}又遇到了这种情况。",
           "联系人：{name}，电话1{phone}。", "涉及{place}等{c}户居民。",
           "这个情况从{year}年{month}月开始，已经{b}个多月了。",
           "我们{place}的{name}等{b}位邻居都签了名。", "离{spot}大概{c}米。"]


def _name(rng: random.Random, k: int = 2) -> str:
    return "".join(rng.choice(NAME_CHARS) for _ in range(k))


def detail(rng: random.Random) -> str:
    """A specific detail of the kind real proposals carry: a named place, a date, a contact, a count."""
    place = _name(rng) + rng.choice(ROADS) + str(rng.randint(1, 399)) + "号" + _name(rng) + rng.choice(ESTATES)
    return rng.choice(DETAILS).format(
        place=place, spot=_name(rng) + rng.choice(ROADS) + _name(rng) + rng.choice(SPOTS),
        name=rng.choice(SURNAMES) + _name(rng, rng.randint(1, 2)), phone=rng.randint(3_000_000_000, 9_999_999_999),
        a=rng.randint(1, 60), b=rng.randint(2, 30), c=rng.randint(20, 900), year=rng.randint(2015, 2025),
        month=rng.randint(1, 12), day=rng.randint(1, 28))


def originals(seed: int, n: int):
    """n distinct base proposals (150–400 characters) built from the demo generator's sentences.

    Demo originals on one topic differ only in a few slots and score up to 0.93 against each other (duplicates
    in all but name), so a base proposal here is one demo original's title followed by sentences drawn from
    different originals of the same category, each sentence used once, with two or three specific details (a
    named place, a date, a contact, a count) in between. The demo's near-duplicates, re-posts and
    draft-comment campaign (which quotes the same clause in every comment) are skipped.
    """
    rng = random.Random(seed)
    batch, made = 0, 0
    while made < n:
        pools: dict[str, list[list[str]]] = {}
        for p in generate_proposals(seed * 1000 + batch, 20_000):
            if p["near_duplicate_of"] is None and not MIXES[p["campaign"]].draft:
                sentences = CLAUSE_RE.findall(p["body"])
                if sentences:
                    pools.setdefault(p["category"], []).append([p["title"] + "。", *sentences])
        batch += 1
        for pool in pools.values():
            while len(pool) > 20 and made < n:
                sentences, target = [pool.pop(rng.randrange(len(pool)))[0]], rng.randint(150, 400)
                while sum(map(len, sentences)) < target - 30 and len(pool) > 20:
                    k = rng.randrange(len(pool))
                    source = pool[k]
                    sentences.append(source.pop(rng.randrange(1, len(source))))
                    if len(source) == 1:
                        pool[k] = pool[-1]
                        pool.pop()
                for _ in range(rng.randint(2, 3)):
                    sentences.insert(rng.randrange(1, len(sentences) + 1), detail(rng))
                made += 1
                yield "".join(sentences)


def variant(text: str, rng: random.Random, to_traditional) -> str:
    """A near-duplicate of one original with a drawn 10–30% of its characters edited: synonyms swapped, clauses
    dropped, inserted or swapped, a few characters mistyped, one sentence in Traditional, greeting/sign-off."""
    clauses = PHRASE_RE.findall(text)
    budget, edited = len(text) * rng.uniform(*EDIT_BUDGET), 0
    while edited < budget:
        op, i = rng.random(), rng.randrange(len(clauses))
        old = clauses[i]
        if op < 0.35:
            new = SYNONYM_RE.sub(lambda m: rng.choice(SYNONYMS[m.group()]) if rng.random() < 0.5 else m.group(), old)
            edited += sum(a != b for a, b in zip(old, new, strict=False)) + abs(len(new) - len(old))
            clauses[i] = new
        elif op < 0.5 and len(clauses) > 3 and len(old) < budget - edited + 5:
            del clauses[i]
            edited += len(old)
        elif op < 0.65:
            phrase = rng.choice(FILLERS)
            clauses.insert(i, phrase)
            edited += len(phrase)
        elif op < 0.8:
            chars = list(old)
            for _ in range(rng.randint(1, 3)):
                chars[rng.randrange(len(chars))] = rng.choice(NOISE_CHARS)
            clauses[i] = "".join(chars)
            edited += sum(a != b for a, b in zip(old, clauses[i], strict=False))
        elif op < 0.9 and i + 1 < len(clauses):
            clauses[i], clauses[i + 1] = clauses[i + 1], old
            edited += min(len(old), len(clauses[i]))
        else:
            clauses[i] = to_traditional(old)
            edited += sum(a != b for a, b in zip(old, clauses[i], strict=False))
    out = "".join(clauses)
    if rng.random() < 0.4:
        out = rng.choice(demo_phrases.GREETINGS) + out
    if rng.random() < 0.4:
        out += rng.choice(demo_phrases.SIGNOFFS)
    return out


def corpus(n: int, seed: int, planted_share: float = 0.1) -> tuple[list[str], list[int], list[int]]:
    """n texts in shuffled order, each one's planted group (an original and its variants share the group id)
    and its original's position (itself for originals)."""
    import opencc
    to_traditional = opencc.OpenCC("s2t").convert
    rng = random.Random(seed)
    texts, origin = [], []
    for text in originals(seed, n):
        if len(texts) >= n:
            break
        base = len(texts)
        texts.append(text)
        origin.append(base)
        if rng.random() < planted_share:
            for _ in range(rng.randint(1, 3)):
                texts.append(variant(text, rng, to_traditional))
                origin.append(base)
    texts, origin = texts[:n], origin[:n]
    order = list(range(n))
    rng.shuffle(order)
    first: dict[int, int] = {}  # a rewrite comes after what it rewrites: each original takes its group's first slot
    for k, i in enumerate(order):
        first.setdefault(origin[i], k)
    for k, i in enumerate(order):
        if origin[i] == i and first[i] != k:
            order[first[i]], order[k] = i, order[first[i]]
    position = {old: new for new, old in enumerate(order)}
    return [texts[i] for i in order], [position[origin[i]] for i in order]


def edit_fractions(texts: list[str], origin: list[int], sample: int = 2000) -> list[float]:
    """1 − difflib ratio between planted variants and their original (a sample), as the achieved edit share."""
    variants = [i for i, o in enumerate(origin) if o != i]
    chosen = random.Random(0).sample(variants, min(sample, len(variants)))
    return [1 - difflib.SequenceMatcher(None, texts[origin[i]], texts[i], autojunk=False).ratio() for i in chosen]


def planted_pair_scores(labels: list, origin: list[int]) -> tuple[float, float]:
    """Precision and recall of 'same cluster' on planted pairs: recall over (original, variant) pairs, precision
    over all co-clustered pairs, counting pairs within one planted group (siblings too) as correct."""
    same_pred = Counter(labels)
    both = Counter(zip(labels, origin, strict=True))
    correct = sum(c * (c - 1) / 2 for c in both.values())
    predicted = sum(c * (c - 1) / 2 for c in same_pred.values())
    variants = [i for i, o in enumerate(origin) if o != i]
    found = sum(labels[i] == labels[origin[i]] for i in variants)
    return correct / max(predicted, 1), found / max(len(variants), 1)


