"""A decade of one body's message board (2016–2025), written by the project and imported through the same path
as ``flask analytics import-messages``, so that the dashboard and the yearly report have a story to tell on a
fresh install: handling time falling (the seed report: 71 days in 2012, 18 in 2022), more messages each year,
the share of suggestions rising, and the mix of categories shifting from housing and construction towards
education, health and services. The texts are the demo generator's own (demo.content); the trends are set here."""
import random
from datetime import datetime, timedelta

from accounts.models import Body
from analytics import importer
from demo.content import _original
from demo.replies import generate_reply

CHANNEL = "lc-people-suggestions"  # the city's standing 人民建议 channel: its board history is imported
SOURCE = "临川市人民建议征集历史留言"
YEARS = tuple(range(2016, 2026))
MESSAGES = (90, 100, 110, 125, 140, 155, 170, 185, 200, 215)
MEAN_HANDLING_DAYS = (64, 56, 47, 39, 32, 27, 23, 20, 18, 16)
SUGGESTION_SHARE = (0.12, 0.14, 0.17, 0.20, 0.23, 0.26, 0.29, 0.32, 0.35, 0.38)
REPLY_RATE = (0.80, 0.82, 0.85, 0.88, 0.90, 0.92, 0.94, 0.95, 0.96, 0.97)
# (weight in 2016, weight in 2025) per category; the years between move in a straight line.
CATEGORY_TREND = {"urban": (34, 14), "transport": (14, 12), "labour": (14, 10), "environment": (9, 9),
                  "education": (8, 16), "health": (6, 14), "services": (5, 13), "commerce": (6, 6),
                  "agriculture": (4, 4)}
COLUMNS = {**importer.DEFAULT_COLUMNS, "category": "分类", "type": "类型"}
DECISIONS = ("adopted", "partly_adopted", "under_study", "explained", "not_adopted")


def history_rows(seed: int = 2026) -> list[dict[str, str]]:
    """The board's messages as CSV rows (the columns of ``COLUMNS``), oldest first, deterministic."""
    rng = random.Random(f"jianyan-history-{seed}")
    pool: dict[tuple[bool, str], list] = {}
    for _ in range(6 * sum(MESSAGES)):
        item = _original(rng, CHANNEL)
        pool.setdefault((item.kind == "suggestion", item.category), []).append(item)
    rows = []
    for y, year in enumerate(YEARS):
        share = y / (len(YEARS) - 1)
        weights = {c: a + (b - a) * share for c, (a, b) in CATEGORY_TREND.items()}
        for n in range(MESSAGES[y]):
            is_suggestion = rng.random() < SUGGESTION_SHARE[y]
            available = [c for c in weights if pool.get((is_suggestion, c))]
            category = rng.choices(available, [weights[c] for c in available])[0]
            item = pool[(is_suggestion, category)].pop()
            sent = datetime(year, 1, 1, 8) + timedelta(days=rng.uniform(0, 364), minutes=rng.randrange(600))
            row = {COLUMNS["ref"]: f"LC{year}{n:04d}", COLUMNS["user"]: f"A{item.author:04d}",
                   COLUMNS["title"]: item.title, COLUMNS["time"]: f"{sent:%Y-%m-%d %H:%M:%S}",
                   COLUMNS["body"]: item.body, COLUMNS["category"]: item.category, COLUMNS["type"]: item.kind,
                   COLUMNS["reply"]: "", COLUMNS["reply_time"]: ""}
            if rng.random() < REPLY_RATE[y]:
                days = max(1.0, rng.lognormvariate(0, 0.6) * MEAN_HANDLING_DAYS[y] / 1.2)
                proposal = {"title": item.title, "body": item.body, "category": item.category,
                            "message_type": item.kind}
                row[COLUMNS["reply"]] = generate_reply(rng.randrange(1 << 30), proposal, rng.choice(DECISIONS))
                row[COLUMNS["reply_time"]] = f"{sent + timedelta(days=days):%Y-%m-%d %H:%M:%S}"
            rows.append(row)
    return sorted(rows, key=lambda row: row[COLUMNS["time"]])


def import_history(body: Body, seed: int = 2026) -> importer.ImportResult:
    """Import the decade into ``body``'s closed history campaign, as `flask analytics import-messages` would."""
    return importer.import_messages(history_rows(seed), body=body, source=SOURCE, mapping=dict(COLUMNS))
