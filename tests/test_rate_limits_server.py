"""Rate limits as `make run` serves the site: gunicorn started the way the Makefile starts it, reading
gunicorn.conf.py (two workers, four threads each), with every request on a new connection so that both workers
answer. The limits hold in total, not per worker: in the embedded default store (a SQLite file; here one under
the test's folder instead of instance/), in Redis, and while Redis is stopped the site keeps answering with each
worker counting on its own until Redis is back.

Before this, each worker counted in its own memory: 17 login attempts before a 429 with two workers, and 57 of
80 API writes accepted against a limit of 30.
"""
import os
import re
import signal
import socket
import subprocess
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import requests

from app import create_app
from core.extensions import db
from tests.api.helpers import make_token
from tests.conftest import REQUIRED, base_config
from tests.factories import PASSWORD, make_campaign, make_suggestion, make_user

ROOT = Path(__file__).resolve().parents[1]
SPRAYED_PASSWORD = "123456789a"  # one common password tried against many accounts


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Site:
    """gunicorn serving a fresh SQLite database: the accounts ``target_user`` and ``office_user`` (password
    ``PASSWORD``), an API token of office_user's (``token``) and a public proposal (``proposal_id``)."""

    def __init__(self, tmp_path: Path, settings: dict):
        database = f"sqlite:///{tmp_path / 'site.db'}"
        app = create_app(base_config(database))
        with app.app_context():
            db.create_all()
            make_user("target_user")
            self.token = make_token(make_user("office_user"))
            self.proposal_id = make_suggestion(make_campaign()).id
            db.session.commit()
            db.engine.dispose()
        self.log_path = tmp_path / "gunicorn.log"
        self.url = f"http://127.0.0.1:{free_port()}"
        env = {**os.environ, "JIANYAN_DATABASE_URL": database, "JIANYAN_SECRET_KEY": "rate-limit-test",
               "JIANYAN_SEARCH_INDEX_DIR": str(tmp_path / "index"), "JIANYAN_ROUTER_DIR": str(tmp_path / "router"),
               "JIANYAN_SIMILARITY_INDEX_DIR": str(tmp_path / "similarity"),
               "JIANYAN_ARGON2_TIME_COST": "1", "JIANYAN_ARGON2_MEMORY_COST": "1024",
               "JIANYAN_TRUSTED_PROXIES": "1",  # the tests say which address each attempt comes from
               **{f"JIANYAN_{name}": str(value) for name, value in settings.items()}}
        self.log = open(self.log_path, "w")  # noqa: SIM115 - open while the server runs
        # The Makefile's command; gunicorn.conf.py (read from the root) sets workers and threads. An access log
        # (off in gunicorn.conf.py: the app logs each request) names the worker (pid) that answered each request.
        self.process = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "--bind", self.url[len("http://"):], "--access-logfile", "-",
             "--access-logformat", "%(p)s %(s)s %(m)s %(U)s", "app:create_app()"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_for_both_workers()
            self.session_cookie, self.csrf_token = self._form_token()
        except BaseException:
            self.stop()
            raise

    def _wait_for_both_workers(self) -> None:
        deadline = time.monotonic() + 60
        while len(set(self.workers())) < 2:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("gunicorn did not serve with two workers:\n" + self.log_path.read_text()[-3000:])
            try:
                requests.get(self.url + "/accounts/login", headers={"Connection": "close"}, timeout=30)
            except requests.ConnectionError:
                time.sleep(0.2)

    def _form_token(self) -> tuple[str, str]:
        page = requests.get(self.url + "/accounts/login", headers={"Connection": "close"}, timeout=10)
        return page.cookies["session"], re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)

    def login(self, username: str, password: str, address: str) -> requests.Response:
        """One login attempt from ``address``, on a new connection (so either worker may take it)."""
        return requests.post(self.url + "/accounts/login", allow_redirects=False, timeout=30,
                             data={"csrf_token": self.csrf_token, "username": username, "password": password},
                             cookies={"session": self.session_cookie},
                             headers={"X-Forwarded-For": address, "Connection": "close"})

    def support(self) -> requests.Response:
        """Support the proposal through the API (again: the vote stays one), on a new connection."""
        return requests.post(f"{self.url}/api/v1/proposals/{self.proposal_id}/support", timeout=30,
                             headers={"Authorization": f"Bearer {self.token}", "Connection": "close"})

    def workers(self, method: str = "GET", expected: int = 0) -> list[str]:
        """The worker of each logged request, in order (waiting up to 5 s for ``expected`` lines: gunicorn writes
        a line once the answer has gone)."""
        deadline = time.monotonic() + 5
        while True:
            found = [line.split()[0] for line in self.log_path.read_text().splitlines()
                     if re.match(rf"<\d+> \d+ {method} /accounts/login$", line)]
            if len(found) >= expected or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(30)
        self.log.close()


@pytest.fixture
def site(tmp_path):
    started = []

    def start(settings: dict) -> Site:
        started.append(Site(tmp_path, settings))
        return started[-1]

    yield start
    for each in started:
        each.stop()


LIMITS = {"LOGIN_ADDRESS_RATE_LIMIT": "10 per 10 minutes", "LOGIN_ACCOUNT_RATE_LIMIT": "5 per 10 minutes",
          "API_WRITE_RATE_LIMIT": "6 per 10 minutes"}


def assert_limits_hold_across_workers(site: Site) -> None:
    """40 accounts tried with one password from one address: exactly 10 answered, then 429 from both workers;
    one account tried from 8 addresses: exactly 5 answered, then 429; 10 API writes: exactly 6 accepted."""
    spray = [site.login(f"citizen_{n}", SPRAYED_PASSWORD, "203.0.113.7") for n in range(40)]
    assert [r.status_code for r in spray] == [422] * 10 + [429] * 30
    assert 0 < int(spray[-1].headers["Retry-After"]) <= 600 and "请10分钟后再试" in spray[-1].text
    # Every worker must also refuse: gunicorn may hand nearly all of the 40 to one worker, so more tries follow
    # (each of them refused too) until each worker has answered one with 429, having counted none itself.
    statuses = [r.status_code for r in spray]
    while True:
        by_worker = Counter(zip(site.workers("POST", expected=len(statuses)), statuses, strict=True))
        if {worker for worker, status in by_worker if status == 429} == set(site.workers()) or len(statuses) > 240:
            break
        statuses.append(site.login(f"citizen_{len(statuses)}", SPRAYED_PASSWORD, "203.0.113.7").status_code)
    assert statuses[40:] == [429] * (len(statuses) - 40)
    assert {worker for worker, status in by_worker if status == 429} == set(site.workers()), by_worker

    guesses = [site.login("target_user", SPRAYED_PASSWORD, f"198.51.100.{n}").status_code for n in range(1, 9)]
    assert guesses == [422] * 5 + [429] * 3
    assert site.login("office_user", PASSWORD, "198.51.100.1").status_code == 303  # others still log in

    writes = [site.support() for _ in range(10)]
    assert [r.status_code for r in writes] == [200] * 6 + [429] * 4
    assert 0 < writes[-1].json()["retry_after"] <= 600 and writes[-1].headers["Retry-After"]


def test_limits_hold_across_workers_in_the_embedded_default_store(site, tmp_path):
    served = site({**LIMITS, "RATELIMIT_STORAGE_URI": f"sqlite:///{tmp_path / 'ratelimits.db'}"})
    assert_limits_hold_across_workers(served)


def redis_or_skip(url: str):
    import redis
    connection = redis.Redis.from_url(url)
    try:
        connection.ping()
    except redis.ConnectionError:
        if "redis" in REQUIRED:
            raise
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    return connection


@pytest.mark.redis
def test_limits_hold_across_workers_in_redis(site):
    connection = redis_or_skip("redis://127.0.0.1:6379/14")
    prefix = f"test-{uuid.uuid4().hex[:8]}"  # this run's keys only: nothing else in Redis is touched
    try:
        served = site({**LIMITS, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/14",
                       "RATELIMIT_KEY_PREFIX": prefix})
        assert_limits_hold_across_workers(served)
        assert connection.keys(f"*{prefix}*")  # the counters really live in Redis
    finally:
        for key in connection.scan_iter(f"*{prefix}*"):
            connection.delete(key)


def start_redis(port: int) -> subprocess.Popen:
    process = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                                "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.05)
    raise AssertionError("redis-server did not start")


@pytest.mark.redis
def test_with_redis_stopped_the_site_keeps_answering_and_each_worker_keeps_counting(site):
    import redis
    port = free_port()
    if not os.path.exists("/usr/bin/redis-server"):
        if "redis" in REQUIRED:
            raise AssertionError("redis-server is not installed")
        pytest.skip("redis-server is not installed")
    own_redis = start_redis(port)
    try:
        served = site({"LOGIN_ADDRESS_RATE_LIMIT": "6 per 10 minutes", "LOGIN_ACCOUNT_RATE_LIMIT": "100 per hour",
                       "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{port}/0"})
        assert [served.login(f"citizen_{n}", SPRAYED_PASSWORD, "203.0.113.7").status_code
                for n in range(3)] == [422] * 3
        assert redis.Redis(port=port).keys("*")
        own_redis.terminate()
        own_redis.wait(10)

        # Nothing answers 500: pages, a good login, failed ones. Each worker counts from zero in its own memory:
        # the address gets 6 failed logins from each worker, then that worker's 429s.
        assert requests.get(served.url + "/", timeout=10).status_code == 200
        assert served.login("office_user", PASSWORD, "192.0.2.10").status_code == 303
        outage = [served.login(f"citizen_{n}", SPRAYED_PASSWORD, "203.0.113.7").status_code for n in range(3, 33)]
        workers = served.workers("POST", expected=34)[-30:]
        for worker in set(workers):
            answers = [status for status, by in zip(outage, workers, strict=True) if by == worker]
            accepted = min(6, len(answers))
            assert answers == [422] * accepted + [429] * (len(answers) - accepted), (worker, outage, workers)

        # Redis is back: each worker tries it again after 1, 2, 4 … 32 s and counts there once it answers.
        own_redis = start_redis(port)
        started, n = time.monotonic(), 0
        while not redis.Redis(port=port).keys("*"):
            assert time.monotonic() - started < 40, "the workers did not return to Redis"
            n += 1
            assert served.login("nobody", SPRAYED_PASSWORD, f"192.0.2.{n % 250}").status_code == 422
            time.sleep(0.2)
    finally:
        own_redis.terminate()
        own_redis.wait(10)


def test_metrics_sum_the_requests_of_every_worker(site):
    """/metrics as Prometheus scrapes it from `make run`'s server: the requests of both workers, summed (each
    worker writes its samples to the server's own folder), and nothing for a visitor from outside."""
    served = site({})
    for _ in range(30):
        assert requests.get(served.url + "/accounts/login", headers={"Connection": "close"}, timeout=30).ok
    assert len(set(served.workers(expected=32))) == 2  # both workers answered some of them
    text = requests.get(served.url + "/metrics", headers={"Connection": "close"}, timeout=30).text
    counted = re.search(r'jianyan_requests_total\{endpoint="accounts.login",method="GET",status="200"\} ([0-9.]+)',
                        text)
    # gunicorn logs a request once its answer has gone, which may be after /metrics counted it: wait for the log.
    assert counted and float(counted.group(1)) == len(served.workers(expected=int(float(counted.group(1)))))
    assert re.search(r'jianyan_queue_depth\{queue="search"\} [0-9.]+', text)
    outside = requests.get(served.url + "/metrics", headers={"X-Forwarded-For": "203.0.113.9", "Connection": "close"},
                           timeout=30)
    assert outside.status_code == 404
