"""Real concurrent HTTP requests against a threaded server, on SQLite and PostgreSQL.

50 requests supporting the same proposal for the same citizen leave exactly one vote;
50 citizens supporting at once leave exactly 50, and the counter agrees with the vote rows.
"""
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from core.extensions import db
from core.models import utcnow
from suggestions.models import Suggestion, Vote
from tests.conftest import POSTGRES_URL
from tests.factories import PASSWORD, make_campaign, make_suggestion, make_user

N = 50
SWITCHERS = 20


def logged_in_session(base_url: str, username: str) -> tuple[requests.Session, str]:
    """A requests session logged in through the real form; returns it with its CSRF token."""
    session = requests.Session()
    page = session.get(f"{base_url}/accounts/login").text
    token = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', page).group(1)
    response = session.post(f"{base_url}/accounts/login", allow_redirects=False,
                            data={"csrf_token": token, "username": username, "password": PASSWORD})
    assert response.status_code == 303
    page = session.get(f"{base_url}/accounts/login").text
    return session, re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', page).group(1)


def support(session: requests.Session, token: str, url: str) -> int:
    return session.post(url, data={"csrf_token": token, "value": "support"}, allow_redirects=False,
                        timeout=120).status_code


def votes_for(suggestion_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Vote).where(Vote.suggestion_id == suggestion_id))


def test_same_citizen_fifty_times_leaves_one_vote(app, live_server):
    suggestion = make_suggestion(make_campaign())
    username, suggestion_id = make_user().username, suggestion.id
    db.session.commit()
    db.session.close()  # outside a request every SQLite transaction takes the write lock: hold none
    session, token = logged_in_session(live_server.url, username)
    url = f"{live_server.url}/suggestions/{suggestion_id}/vote"
    with ThreadPoolExecutor(max_workers=N) as pool:
        statuses = list(pool.map(lambda _: support(session, token, url), range(N)))
    assert statuses == [303] * N
    assert votes_for(suggestion_id) == 1
    assert db.session.get(Suggestion, suggestion_id).support_count == 1


def test_one_citizens_racing_support_oppose_and_withdraw_leave_counters_equal_to_rows(app, live_server):
    """Rapid clicks of one citizen in every direction (support, oppose, withdraw) race each other and four other
    citizens' votes: whatever order they commit in, at most one vote row per citizen remains and the counters
    equal the rows (a vote inserted, changed or deleted under another request of the same citizen)."""
    from suggestions import services

    suggestion = make_suggestion(make_campaign())
    usernames, suggestion_id = [make_user().username for _ in range(5)], suggestion.id
    db.session.commit()
    db.session.close()  # outside a request every SQLite transaction takes the write lock: hold none
    sessions = [logged_in_session(live_server.url, name) for name in usernames]
    url = f"{live_server.url}/suggestions/{suggestion_id}/vote"
    choices = ["support", "oppose", "withdraw", "support", "withdraw", "oppose"] * 5

    def click(i: int) -> int:
        session, token = sessions[0] if i % 3 else sessions[1 + i % 4]
        return session.post(url, data={"csrf_token": token, "value": choices[i]}, allow_redirects=False,
                            timeout=120).status_code
    with ThreadPoolExecutor(max_workers=len(choices)) as pool:
        statuses = list(pool.map(click, range(len(choices))))
    assert statuses == [303] * len(choices)
    db.session.expire_all()
    rows = db.session.execute(sa.select(Vote.user_id, Vote.value).where(Vote.suggestion_id == suggestion_id)).all()
    assert len(rows) == len({user_id for user_id, _ in rows}) <= 5
    proposal = db.session.get(Suggestion, suggestion_id)
    assert (proposal.support_count, proposal.oppose_count) == (sum(v == 1 for _, v in rows),
                                                                sum(v == -1 for _, v in rows))
    assert services.recount_votes() == 0


def test_fifty_citizens_at_once_leave_fifty_votes(app, live_server):
    suggestion = make_suggestion(make_campaign())
    usernames, suggestion_id = [make_user().username for _ in range(N)], suggestion.id
    db.session.commit()
    db.session.close()  # outside a request every SQLite transaction takes the write lock: hold none
    sessions = [logged_in_session(live_server.url, name) for name in usernames]
    url = f"{live_server.url}/suggestions/{suggestion_id}/vote"
    with ThreadPoolExecutor(max_workers=N) as pool:
        statuses = list(pool.map(lambda s: support(s[0], s[1], url), sessions))
    assert statuses == [303] * N
    assert votes_for(suggestion_id) == N
    assert db.session.get(Suggestion, suggestion_id).support_count == N


def test_citizens_switching_support_both_ways_at_once_lose_and_add_nothing(app, live_server):
    """Half the citizens move their support from A to B while the other half move theirs from B to A, all at once:
    each switch takes the two proposals in id order, so none deadlocks (PostgreSQL) and every support lands."""
    from suggestions import services

    campaign = make_campaign()
    first, second = make_suggestion(campaign), make_suggestion(campaign, title="建议在城南小学门口设置护学岗")
    citizens = [make_user() for _ in range(SWITCHERS)]
    for i, citizen in enumerate(citizens):
        services.vote(citizen, first if i % 2 else second, 1)
    names, ids = [c.username for c in citizens], (first.id, second.id)
    db.session.commit()
    db.session.close()  # outside a request every SQLite transaction takes the write lock: hold none
    sessions = [logged_in_session(live_server.url, name) for name in names]

    def switch(i: int) -> int:
        session, token = sessions[i]
        here, there = (ids[0], ids[1]) if i % 2 else (ids[1], ids[0])
        return session.post(f"{live_server.url}/suggestions/{here}/switch-support", allow_redirects=False,
                            data={"csrf_token": token, "to": there}, timeout=120).status_code
    with ThreadPoolExecutor(max_workers=SWITCHERS) as pool:
        statuses = list(pool.map(switch, range(SWITCHERS)))
    assert statuses == [303] * SWITCHERS
    assert (votes_for(ids[0]), votes_for(ids[1])) == (SWITCHERS // 2, SWITCHERS // 2)
    assert [db.session.get(Suggestion, i).support_count for i in ids] == [SWITCHERS // 2] * 2
    assert services.recount_votes() == 0


@pytest.mark.parametrize("backend", ["postgres"] if POSTGRES_URL else [])
def test_two_voters_written_rows_never_deadlock_on_the_counters(app):
    """Each vote row holds a KEY SHARE lock on its proposal (the foreign key) until commit; the counters' UPDATE
    run afterwards (FOR NO KEY UPDATE) must not wait for another voter's, or two voters deadlock (PostgreSQL)."""
    from suggestions.services import counters_moved

    suggestion = make_suggestion()
    first, second = make_user(), make_user()
    db.session.commit()
    with db.engine.connect() as one, db.engine.connect() as two:
        for conn, user in ((one, first), (two, second)):
            conn.exec_driver_sql("SET lock_timeout = '2s'")
            conn.execute(sa.insert(Vote).values(suggestion_id=suggestion.id, user_id=user.id, value=1,
                                                created_at=utcnow()))
        assert one.execute(counters_moved(suggestion.id, 1, 0)).one().support_count == 1  # not blocked by two's row
        one.commit()
        assert two.execute(counters_moved(suggestion.id, 1, 0)).one().support_count == 2
        two.rollback()


def _wait_until_blocked(app, pid: int) -> None:
    """Return once PostgreSQL backend ``pid`` waits on a lock (the racing request has reached the held row)."""
    import time
    deadline = time.monotonic() + 20
    with db.engine.connect() as watcher:
        while time.monotonic() < deadline:
            if watcher.exec_driver_sql(f"SELECT wait_event_type FROM pg_stat_activity WHERE pid = {pid}").scalar() \
                    == "Lock":
                return
            time.sleep(0.05)
    raise AssertionError("the racing transaction never waited for the moderator's lock")


def _race_with_a_hold(app, voter_action):
    """A moderator holds the citizen's support (transaction open); meanwhile ``voter_action(voter, suggestion)``
    runs in another thread and waits for that lock; the moderator commits. Returns (counters, unheld votes,
    the thread's exception or None)."""
    import threading

    from suggestions import services

    moderator, voter = make_user(role="moderator"), make_user()
    suggestion = make_suggestion()
    services.vote(voter, suggestion, 1)
    db.session.commit()
    ids = (suggestion.id, voter.id, moderator.id)
    outcome = {}

    def racing_voter():
        with app.app_context():
            db.session.execute(sa.text("SELECT 1"))
            outcome["pid"] = db.session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
            started.set()
            try:
                voter_action(db.session.get(type(moderator), ids[1]), db.session.get(Suggestion, ids[0]))
                db.session.commit()
            except Exception as error:  # noqa: BLE001 - handed to the test to assert on
                db.session.rollback()
                outcome["error"] = error

    started = threading.Event()
    services.set_votes_held(db.session.get(type(moderator), ids[2]),
                            sa.select(Vote.id).where(Vote.suggestion_id == ids[0]), True)
    thread = threading.Thread(target=racing_voter)
    thread.start()
    started.wait(20)
    _wait_until_blocked(app, outcome["pid"])
    db.session.commit()
    thread.join(30)
    db.session.expire_all()
    stored = db.session.get(Suggestion, ids[0])
    unheld = db.session.scalar(sa.select(sa.func.count()).select_from(Vote).where(
        Vote.suggestion_id == ids[0], Vote.held_at.is_(None), Vote.value == 1))
    return (stored.support_count, stored.oppose_count), unheld, outcome.get("error")


@pytest.mark.parametrize("backend", ["postgres"] if POSTGRES_URL else [])
def test_withdrawing_a_vote_a_moderator_is_holding_leaves_the_counters_true(app):
    from suggestions.services import withdraw_vote

    counters, unheld, error = _race_with_a_hold(app, withdraw_vote)
    assert counters == (0, 0) and unheld == 0  # red before: the held vote was deleted and support fell to -1
    from core.errors import Conflict
    assert isinstance(error, Conflict) and "撤回" in str(error)


@pytest.mark.parametrize("backend", ["postgres"] if POSTGRES_URL else [])
def test_changing_a_vote_a_moderator_is_holding_leaves_the_counters_true(app):
    from suggestions.services import vote

    counters, unheld, error = _race_with_a_hold(app, lambda voter, suggestion: vote(voter, suggestion, -1))
    assert error is None
    assert counters == (0, 0)  # the changed vote is still held: neither counter moves (red before: (-1, 1))
