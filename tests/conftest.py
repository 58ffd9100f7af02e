"""Test fixtures: a fresh database per test on SQLite and (when configured) PostgreSQL, real servers.

Environment:
  JIANYAN_TEST_POSTGRES_URL  e.g. postgresql://postgres@127.0.0.1:5432/test; enables the PostgreSQL suite.
  JIANYAN_TEST_BROWSER=1     enables the Chromium browser test (needs /usr/bin/chromium).
  JIANYAN_TEST_FAULTS=1      enables the fault drills (tests/test_fault_drills.py: bench.faults, root for tmpfs).
  JIANYAN_TEST_REQUIRE       comma list of suites that must run ("postgres,browser,redis,faults"): CI sets it so
                             that a suite that cannot run fails the build instead of being skipped.
"""
import contextvars
import os
import re
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter

import pytest
import redis
import sqlalchemy as sa
from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from werkzeug.serving import make_server

from app import create_app
from core.extensions import db
from suggestions import similarity_index

POSTGRES_URL = os.environ.get("JIANYAN_TEST_POSTGRES_URL", "")
BROWSER = os.environ.get("JIANYAN_TEST_BROWSER", "") == "1"
REQUIRED = {s.strip() for s in os.environ.get("JIANYAN_TEST_REQUIRE", "").split(",") if s.strip()}
FAULTS = os.environ.get("JIANYAN_TEST_FAULTS", "") == "1" or "faults" in REQUIRED
CHROMIUM = os.environ.get("JIANYAN_CHROMIUM", "/usr/bin/chromium")
_suite_counts: Counter = Counter()


class SharedTemplateCode(BytecodeCache):
    """Compiled templates kept for the whole test run: every test builds its own app, whose Jinja environment would
    otherwise compile each template it renders again (about a tenth of a second a test). Jinja keys the code by
    template name and a checksum of its source, so an edited template is compiled afresh."""

    def __init__(self):
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket):
        self.code[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CODE = SharedTemplateCode()


def base_config(database_url: str) -> dict:
    return {"TESTING": True, "SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": database_url,
            "SEARCH_INDEX_DIR": tempfile.mkdtemp(prefix="jianyan-index-"),
            "ROUTER_DIR": tempfile.mkdtemp(prefix="jianyan-router-"),
            "SIMILARITY_INDEX_DIR": tempfile.mkdtemp(prefix="jianyan-similarity-"),
            "EDITION_LOGO_DIR": tempfile.mkdtemp(prefix="jianyan-logos-"),
            "SAME_ISSUE_MODEL": os.path.join(tempfile.mkdtemp(prefix="jianyan-model-"), "same_issue_model.json"),
            "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024, "SQLITE_BUSY_TIMEOUT_MS": 30000,
            "RATELIMIT_ENABLED": False, "RATELIMIT_STORAGE_URI": "memory://", "ANALYTICS_MAX_AGE_SECONDS": 0,
            "PAGE_CACHE_SECONDS": 0}


def _admin_url(url: str, database: str) -> str:
    return sa.engine.make_url(url.replace("postgresql://", "postgresql+psycopg://", 1)).set(
        database=database).render_as_string(hide_password=False)


def create_postgres_database(prefix: str) -> str:
    """Create a fresh, uniquely named database next to the configured one and return its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(_admin_url(POSTGRES_URL, sa.engine.make_url(POSTGRES_URL).database),
                              isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return _admin_url(POSTGRES_URL, name)


def drop_postgres_database(url: str) -> None:
    name = sa.engine.make_url(url).database
    engine = sa.create_engine(_admin_url(POSTGRES_URL, sa.engine.make_url(POSTGRES_URL).database),
                              isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives Chromium through Playwright")
    config.addinivalue_line("markers", "redis: talks to the real Redis on 127.0.0.1:6379")
    config.addinivalue_line("markers", "faults: a fault drill of bench.faults (servers of its own, killed or stopped)")
    config.addinivalue_line("markers", "app_config(dict): settings the `app` fixture adds to the test configuration")
    problems = []
    if "postgres" in REQUIRED:
        if not POSTGRES_URL:
            problems.append("the PostgreSQL suite is required but JIANYAN_TEST_POSTGRES_URL is not set")
        else:
            try:
                engine = sa.create_engine(_admin_url(POSTGRES_URL, sa.engine.make_url(POSTGRES_URL).database))
                with engine.connect():
                    pass
                engine.dispose()
            except Exception as error:  # noqa: BLE001 - any failure to connect means the suite cannot run
                problems.append(f"the PostgreSQL suite is required but {POSTGRES_URL} is unreachable: {error}")
    if "browser" in REQUIRED and (not BROWSER or not os.path.exists(CHROMIUM)):
        problems.append(f"the browser suite is required but JIANYAN_TEST_BROWSER!=1 or {CHROMIUM} is missing")
    if problems:
        raise pytest.UsageError("; ".join(problems))


LONGEST_FILES = ("tests/test_route_fuzz.py", "tests/browser/test_journeys.py", "tests/test_fault_drills.py",
                 "tests/browser/test_newcomer.py", "tests/browser/test_stack.py", "tests/test_jobs.py",
                 "tests/test_rate_limits_server.py", "tests/suggestions/test_two_processes.py")
"""Files of a minute or more, sent to the two workers first (``--dist loadfile`` hands out files in collection
order): collected last, as they would be, one worker kept running them alone for minutes after the other had
finished."""


def pytest_collection_modifyitems(config, items):
    first = {name: rank for rank, name in enumerate(LONGEST_FILES)}
    items.sort(key=lambda item: first.get(item.nodeid.split("::")[0], len(first)))  # stable: the rest keep order
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec else None
        if item.get_closest_marker("browser"):
            item.user_properties.append(("suite", "browser"))
        elif item.get_closest_marker("faults"):
            item.user_properties.append(("suite", "faults"))
        elif item.get_closest_marker("redis"):
            item.user_properties.append(("suite", "redis"))
        elif backend == "postgres":
            item.user_properties.append(("suite", "postgres"))
        else:
            item.user_properties.append(("suite", "sqlite"))


def pytest_runtest_logreport(report):
    if report.when == "call" and report.passed:
        _suite_counts[dict(report.user_properties).get("suite", "sqlite")] += 1


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(
        "suites passed: " + ", ".join(f"{suite} {_suite_counts.get(suite, 0)}"
                                      for suite in ("sqlite", "postgres", "browser", "redis", "faults")))
    for suite in sorted(REQUIRED):
        if _suite_counts.get(suite, 0) == 0:
            terminalreporter.write_line(f"required suite '{suite}' ran no test", red=True)
            terminalreporter._session.exitstatus = 1  # noqa: SLF001 - fail the run, never skip silently


BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])


@pytest.fixture(scope="session")
def postgres_database():
    """One PostgreSQL database for the session; tables are emptied between tests."""
    url = create_postgres_database("jianyan_test")
    yield url
    drop_postgres_database(url)


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def app(backend, tmp_path, request):
    if backend == "postgres":
        url = request.getfixturevalue("postgres_database")
    else:
        url = f"sqlite:///{tmp_path / 'test.db'}"
    marker = request.node.get_closest_marker("app_config")  # e.g. rate limits switched on, as in production
    application = create_app({**base_config(url), "RATELIMIT_STORAGE_URI": f"sqlite:///{tmp_path / 'ratelimits.db'}",
                              **(marker.args[0] if marker else {})})
    application.jinja_env.bytecode_cache = TEMPLATE_CODE
    similarity_index.forget_indexes()  # ids restart in every test database
    with application.app_context():
        db.create_all()
        yield application
        db.session.remove()
        if backend == "postgres":
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            with db.engine.begin() as conn:
                conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        db.engine.dispose()


class CsrfClient(FlaskClient):
    """A test client that behaves like a separate browser.

    Each request runs in its own application context (its own database session and locale, as in
    production), after the test's session has committed what it built, and sends the form's CSRF
    token like a browser would (pass csrf=False to omit it).
    """

    _token: str | None = None

    def open(self, *args, **kwargs):
        db.session.commit()
        return contextvars.Context().run(super().open, *args, **kwargs)

    def csrf_token(self) -> str:
        if self._token is None:
            page = self.get("/accounts/login").get_data(as_text=True)
            self._token = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', page).group(1)
        return self._token

    def post(self, *args, csrf=True, **kwargs):
        data = kwargs.get("data")
        if csrf and (data is None or isinstance(data, dict)) and "json" not in kwargs:
            kwargs["data"] = {"csrf_token": self.csrf_token(), **(data or {})}
        return super().post(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = CsrfClient
    return app.test_client()


def login(client, user, password=None):
    """Log ``client`` in as ``user`` through the real login form."""
    from tests.factories import PASSWORD
    client._token = None
    response = client.post("/accounts/login", data={"username": user.username, "password": password or PASSWORD})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    client._token = None  # the session changed; fetch a fresh token
    return client


class LiveServer:
    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(10)


@pytest.fixture
def live_server(app):
    """The app served over real HTTP by a threaded Werkzeug server on a free local port."""
    with LiveServer(app) as server:
        yield server


class _SmtpInbox:
    """What a test SMTP server received: (recipients, message text) pairs."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 OK"


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free local port: yields (port, inbox)."""
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = _SmtpInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server of the test's own on a free port (never the machine's Redis, which others use)."""

    def __init__(self, directory: str):
        import shutil
        binary = shutil.which("redis-server")
        if binary is None:
            if "redis" in REQUIRED:
                pytest.fail("the Redis suite is required but redis-server is not installed")
            pytest.skip("redis-server is not installed")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen([binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no", "--dir", directory],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                self.client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = RedisServer(str(tmp_path_factory.mktemp("redis")))
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server):
    """The URL of the session's own Redis, emptied for this test."""
    redis_server.client.flushall()
    return redis_server.url
