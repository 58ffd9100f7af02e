"""A model-based test of search: a seeded random walk of what citizens, staff and moderators do through the
pages (submit, support, oppose, withdraw a vote, accept, hide, unhide, reject, withdraw a proposal) and of
`flask search reindex`, with searches in between. After every step the search page answers, and its hits, total
and status counts equal what the database says: the public proposals whose text holds every word of the query.

It runs on the Whoosh backend (with SQLite and, in the PostgreSQL suite, PostgreSQL) and on the PostgreSQL
search backend. ``JIANYAN_SEARCH_WALK_STEPS`` sets the steps (60 in the normal suite; e.g. 2000 for a long run).
"""
import os
import random
import re
from collections import Counter

import pytest
import sqlalchemy as sa

from core.extensions import db
from search.backend import SearchQuery
from search.indexing import get_backend
from suggestions.models import PUBLIC_STATUSES, Suggestion
from tests.conftest import POSTGRES_URL, CsrfClient, login
from tests.factories import make_body, make_campaign, make_category, make_staff, make_user

STEPS = int(os.environ.get("JIANYAN_SEARCH_WALK_STEPS", "60"))
WORDS = ["学校", "停车", "路灯", "公交", "垃圾", "噪音", "电梯", "绿化"]
PLACES = ["人民路", "解放路", "建设路", "中山路", "青年路", "和平路", "光明街", "新华街"]
ACTIONS = ["submit", "submit", "support", "support", "oppose", "withdraw_vote", "accept", "hide", "unhide",
           "reject", "withdraw", "reindex"]

COMBINATIONS = [("sqlite", "whoosh")] + ([("postgres", "whoosh"), ("postgres", "postgres")] if POSTGRES_URL else [])


def proposal_text(rng: random.Random, n: int) -> tuple[str, str]:
    words = rng.sample(WORDS, rng.randint(1, 3))
    place = rng.choice(PLACES)
    title = f"关于{place}{'、'.join(words)}的建议"
    body = f"{place}附近的{'和'.join(words)}问题一直没有解决，居民意见很大，希望有关部门尽快处理（第{n}条）。"
    return title, body


def expected(words: list[str]) -> dict[int, str]:
    """Public proposals holding every word, with their status, as the database has them."""
    rows = db.session.execute(sa.select(Suggestion.id, Suggestion.title, Suggestion.body, Suggestion.status)
                              .where(Suggestion.status.in_(PUBLIC_STATUSES))).all()
    db.session.rollback()
    return {row.id: str(row.status) for row in rows if all(w in row.title + row.body for w in words)}


class Walk:
    """The people of the walk, each with a browser, and the steps they take."""

    def __init__(self, app, rng: random.Random):
        self.app, self.rng = app, rng
        body = make_body("青溪县城市管理局")
        self.campaigns = [make_campaign(body, categories=[make_category()]),
                          make_campaign(body, title="青溪县城市环境建议征集", categories=[make_category()])]
        staff_user = make_staff(body, "walk_staff")
        moderator_user = make_user("walk_moderator", role="moderator")
        citizen_users = [make_user(f"walk_citizen{i}") for i in range(4)]
        db.session.commit()
        self.staff, self.moderator = self._browser(staff_user), self._browser(moderator_user)
        self.citizens = [(user.id, self._browser(user)) for user in citizen_users]
        self.reader = self._browser(None)
        self.submitted = 0

    def _browser(self, user) -> CsrfClient:
        client = self.app.test_client()
        return login(client, user) if user is not None else client

    def _proposals(self, *statuses) -> list[Suggestion]:
        query = sa.select(Suggestion).order_by(Suggestion.id)
        if statuses:
            query = query.where(Suggestion.status.in_(statuses))
        found = db.session.scalars(query).all()
        db.session.rollback()
        return found

    def _post(self, client, url: str, data: dict | None = None) -> None:
        response = client.post(url, data=data or {})
        assert response.status_code < 500, f"POST {url}: {response.status_code}"

    def step(self, action: str) -> str:
        rng = self.rng
        public = self._proposals(*PUBLIC_STATUSES)
        if action == "submit" or not public and action not in ("unhide", "reindex"):
            self.submitted += 1
            title, body = proposal_text(rng, self.submitted)
            campaign = rng.choice(self.campaigns)
            _, client = rng.choice(self.citizens)
            response = client.post(f"/suggestions/new/{campaign.id}", data={
                "title": title, "body": body, "category": "transport", "message_type": "suggestion"})
            assert response.status_code == 303, response.get_data(as_text=True)[:300]
            return f"submit {title}"
        if action in ("support", "oppose", "withdraw_vote"):
            target = rng.choice(public)
            _, client = rng.choice(self.citizens)
            value = {"support": "support", "oppose": "oppose", "withdraw_vote": "withdraw"}[action]
            self._post(client, f"/suggestions/{target.id}/vote", {"value": value})
            return f"{action} {target.id}"
        if action == "accept":
            target = rng.choice(public)
            self._post(self.staff, f"/suggestions/{target.id}/accept")
            return f"accept {target.id}"
        if action == "hide":
            target = rng.choice(public)
            self._post(self.moderator, f"/suggestions/{target.id}/hide", {"hide-reason": "含有个人信息"})
            return f"hide {target.id}"
        if action == "unhide":
            hidden = self._proposals("hidden")
            if hidden:
                target = rng.choice(hidden)
                self._post(self.moderator, f"/suggestions/{target.id}/unhide")
                return f"unhide {target.id}"
            return "unhide (nothing hidden)"
        if action == "reject":
            target = rng.choice(public)
            self._post(self.staff, f"/suggestions/{target.id}/reject", {"reject-reason": "off_topic"})
            return f"reject {target.id}"
        if action == "withdraw":
            target = rng.choice(public)
            client = dict(self.citizens).get(target.author_id)
            if client is not None:
                self._post(client, f"/suggestions/{target.id}/withdraw")
            return f"withdraw {target.id}"
        result = self.app.test_cli_runner().invoke(args=["search", "reindex"])
        assert result.exit_code == 0, result.output
        return "reindex"

    def check(self, words: list[str], history: list[str]) -> None:
        """The search page's hits and counts for ``words`` equal the database's answer."""
        query = " ".join(words)
        want = expected(words)
        response = self.reader.get("/search/", query_string={"q": query, "sort": "supported"})
        where = f"after {len(history)} steps (last: {history[-3:]}), query {query!r}"
        assert response.status_code == 200, f"{response.status_code} {where}"
        page = response.get_data(as_text=True)
        hits = page.split('search-hits">', 1)[1].split("</ol>", 1)[0] if want else ""
        got = [int(i) for i in re.findall(r'href="/suggestions/(\d+)"', hits)]
        assert sorted(got) == sorted(want), f"hits {sorted(got)} != database {sorted(want)} {where}"
        result = get_backend().search(SearchQuery(text=query, per_page=200))
        assert result.total == len(want), f"total {result.total} != {len(want)} {where}"
        assert result.facets.get("status", {}) == dict(Counter(want.values())), f"status counts {where}"
        supports = dict(db.session.execute(sa.select(Suggestion.id, Suggestion.support_count)
                                           .where(Suggestion.id.in_(got))).all())
        db.session.rollback()
        ordered = [supports[i] for i in got]
        assert ordered == sorted(ordered, reverse=True), f"'most supported' order {ordered} {where}"


@pytest.mark.parametrize(("backend", "search_backend"), COMBINATIONS, ids=[f"{a}-{b}" for a, b in COMBINATIONS])
def test_search_agrees_with_the_database_after_every_step(request, app, backend, search_backend):
    app.test_client_class = CsrfClient
    app.config.update(SEARCH_BACKEND=search_backend, SEARCH_COUNTERS_DELAY=0, PAGE_SIZE=200)
    if search_backend == "postgres":
        app.config["SEARCH_DATABASE_URL"] = request.getfixturevalue("postgres_database")
    get_backend().clear()
    rng = random.Random(f"search-walk-{backend}-{search_backend}")
    walk = Walk(app, rng)
    history = []
    for _ in range(12):  # some proposals first, then a rebuild: the index starts from large bulk segments
        history.append(walk.step("submit"))
    history.append(walk.step("reindex"))
    for _ in range(STEPS):
        history.append(walk.step(rng.choice(ACTIONS)))
        for words in [[rng.choice(WORDS)], rng.sample(WORDS, 2)]:
            walk.check(words, history)
    for word in WORDS:
        walk.check([word], history)
