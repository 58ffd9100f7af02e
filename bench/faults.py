"""Fault drills: the site served as `make run` serves it (gunicorn, gunicorn.conf.py: 2 workers x 4 threads) under
real clients (threads, each a requests.Session that logs in through the form and votes and submits with the
form's CSRF token), while one fault is injected:

  kill_worker    kill -9 one gunicorn worker during votes and submissions (SQLite, as `make run`)
  pg_restart     `pg_ctl restart -m fast` of a PostgreSQL cluster of the drill's own (initdb in a temp folder)
  redis_stop     stop the drill's own redis-server (rate limits, page cache, jobs; a `flask jobs worker` runs)
                 for ~10 s, then start it again on the same port
  full_disk      the Whoosh index on a small tmpfs (`mount -t tmpfs`, root only) filled to ENOSPC, then freed
  sqlite_locked  another process holds SQLite's write lock longer than the busy timeout, twice

Each drill prints what the clients saw (answers by class, connection errors), when the failures came and when the
first good answer after them came (seconds from the fault), the machine's load (os.getloadavg), and an audit of
the database afterwards: every vote and proposal a client was told was saved exists exactly once, no proposal
title twice, counters equal the vote rows, every proposal has its audit row, nothing refers to a missing row.
A client retries a write that failed (connection error, 5xx) as a browser's "resend" would: the same form, the
same submission key. The exit status is 1 when a drill lost or duplicated a write, or answered 500 (none of
these drills may).

    .venv/bin/python -m bench.faults [DRILL ...] [--seconds 6] [--clients 8]
"""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "drill-lamp-river-42"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SUBMISSION_KEY = re.compile(r'name="submission_key"[^>]*value="([^"]+)"')
WRITE_DEADLINE_SECONDS = 60  # a write still failing this long after it was first tried is reported unresolved


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def as_postgres_user(command: list[str]) -> list[str]:
    """PostgreSQL's tools refuse to run as root: run them as the `postgres` user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def run_or_explain(command: list[str]) -> None:
    """Run a command; if it fails, raise with what it printed."""
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}): {result.stdout}{result.stderr}")


# --- servers the drills own --------------------------------------------------------------------------------------

class TempPostgres:
    """A PostgreSQL cluster of the drill's own (initdb in a temp folder, a free port), never the machine's."""

    def __init__(self, folder: Path):
        self.folder, self.port = folder / "pg", free_port()
        folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:  # the postgres user must reach and own its folder
            for parent in (folder, *folder.parents):
                if parent == Path(tempfile.gettempdir()):
                    break
                os.chmod(parent, 0o755)
            shutil.chown(folder, "postgres")
        run_or_explain(as_postgres_user([str(PG_BIN / "initdb"), "-D", str(self.folder), "-U", "postgres",
                                         "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]))
        self.start()
        subprocess.run(as_postgres_user([str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                                         "-U", "postgres", "drill"]), check=True)
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/drill"

    def _ctl(self, *args: str) -> None:
        run_or_explain(as_postgres_user([str(PG_BIN / "pg_ctl"), "-D", str(self.folder), "-w", "-l",
                                         str(self.folder / "server.log"), *args]))

    def start(self) -> None:
        self._ctl("-o", f"-p {self.port} -c listen_addresses=127.0.0.1 -k /tmp -c fsync=off", "start")

    def restart(self) -> None:
        """A fast restart: open sessions are ended, their transactions rolled back."""
        self._ctl("-o", f"-p {self.port} -c listen_addresses=127.0.0.1 -k /tmp -c fsync=off", "-m", "fast",
                  "restart")

    def stop(self) -> None:
        self._ctl("-m", "immediate", "stop")


class TempRedis:
    """A redis-server of the drill's own on a free port (never the machine's Redis), without persistence."""

    def __init__(self, folder: Path):
        self.folder, self.port, self.process = folder, free_port(), None
        self.start()

    def url(self, number: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{number}"

    def start(self) -> None:
        self.process = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                         "--save", "", "--appendonly", "no", "--dir", str(self.folder)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def wait_for_port(port: int, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


class Server:
    """gunicorn as `make run` starts it (gunicorn.conf.py from the repository root: 2 workers x 4 threads)."""

    def __init__(self, env: dict, log_path: Path):
        self.port, self.env, self.log_path = free_port(), env, log_path
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(log_path, "a")  # noqa: SIM115 - open while the server runs
        self.process = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "--bind", f"127.0.0.1:{self.port}", "app:create_app()"],
            cwd=ROOT, env={**os.environ, **env}, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 90
        while len(self.workers()) < 2 or not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start:\n" + log_path.read_text()[-3000:])
            time.sleep(0.2)

    def _answers(self) -> bool:
        try:
            return requests.get(self.url + "/healthz", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def workers(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout
        return [int(pid) for pid in out.split()]

    def stop(self) -> None:
        stop_group(self.process)
        self.log.close()


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to a process started in its own session and its children; SIGKILL if they are not gone in 30 s."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def site_env(database_url: str, folder: Path, **settings) -> dict:
    """The server's settings: the drill's database and index, cheap password hashing, limits high enough that
    the drill's clients are not refused (the limits themselves are tested elsewhere)."""
    return {"JIANYAN_DATABASE_URL": database_url, "JIANYAN_SECRET_KEY": "fault-drill",
            "JIANYAN_SEARCH_INDEX_DIR": str(settings.pop("index_dir", folder / "index")),
            "JIANYAN_ROUTER_DIR": str(folder / "router"),
            "JIANYAN_RATELIMIT_STORAGE_URI": f"sqlite:///{folder / 'ratelimits.db'}",
            "JIANYAN_ARGON2_TIME_COST": "1", "JIANYAN_ARGON2_MEMORY_COST": "1024",
            "JIANYAN_SUBMIT_RATE_LIMIT": "10000 per hour", "JIANYAN_SUBMIT_ADDRESS_RATE_LIMIT": "10000 per hour",
            "JIANYAN_VOTE_RATE_LIMIT": "10000 per minute", "JIANYAN_FLOOD_SUPPORT_COUNT": "100000",
            "JIANYAN_LOGIN_ACCOUNT_RATE_LIMIT": "10000 per hour", "JIANYAN_LOGIN_ADDRESS_RATE_LIMIT": "10000 per hour",
            **{f"JIANYAN_{name}": str(value) for name, value in settings.items()}}


# --- the drill's data --------------------------------------------------------------------------------------------

@dataclass
class Seed:
    campaign_id: int
    proposal_ids: list[int]
    usernames: list[str]


def prepare_database(database_url: str, folder: Path, clients: int, proposals: int, index: bool = False) -> Seed:
    """Create the schema and a campaign with ``proposals`` proposals by one author, ``clients`` citizens; with
    ``index``, build the Whoosh index as `make run` does (`flask search catch-up`)."""
    from accounts import services as accounts
    from app import create_app
    from campaigns.models import Campaign, Category
    from core.extensions import db
    from core.models import utcnow
    from search.indexing import catch_up, get_backend
    from suggestions import services as suggestions

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "fault-drill",
                      "SEARCH_INDEX_DIR": str(folder / "index"), "ROUTER_DIR": str(folder / "router"),
                      "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024, "RATELIMIT_STORAGE_URI": "memory://",
                      "SEARCH_INDEX_ON_REQUEST": False})
    with app.app_context():
        db.create_all()
        body = accounts.create_body(None, name="青溪县交通运输局", kind="department", level="county",
                                    region="江南省临川市青溪县")
        category = Category(code="transport", name="交通运输", name_en="Transport")
        now = utcnow()
        campaign = Campaign(body=body, title="青溪县道路交通安全建议征集", theme="道路交通安全",
                            description="欢迎提出意见建议。", region_scope=body.region,
                            opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=30),
                            allow_oppose=True, screening=False, status="open", categories=[category])
        db.session.add(campaign)
        author = accounts.register_user("drill_author", PASSWORD, "")
        usernames = [accounts.register_user(f"drill_citizen_{n}", PASSWORD, "").username for n in range(clients)]
        ids = []
        for n in range(proposals):
            proposal = suggestions.submit_suggestion(
                author, campaign, title=f"第{n}号路口建议增设信号灯", category=category, message_type="suggestion",
                body=f"第{n}号路口车流量大，行人过街困难，建议增设信号灯。")
            ids.append(proposal.id)
        db.session.commit()
        if index:
            catch_up(get_backend(), progress=False)
        seed = Seed(campaign.id, ids, usernames)
        db.session.remove()
        db.engine.dispose()
    return seed


# --- clients -----------------------------------------------------------------------------------------------------

@dataclass
class Answer:
    kind: str  # "vote", "submit", "search", "page", "login"
    started: float
    ended: float
    status: int | None  # None: the connection failed (refused, reset, timed out)
    retry_after: str | None = None

    @property
    def good(self) -> bool:
        return self.status is not None and self.status < 500 and self.status != 429


@dataclass
class Write:
    """One write a client wanted saved: a vote (proposal id) or a submission (title); ``saved_id`` once a client
    was told it was saved, ``first_tried`` and ``confirmed_at`` in the drill's clock, ``failures`` before that."""
    kind: str
    username: str
    proposal_id: int | None = None
    title: str | None = None
    saved_id: int | None = None
    first_tried: float = 0.0
    confirmed_at: float | None = None
    failures: int = 0
    last_attempt_wall: float = 0.0  # time.time() when the last attempt was sent


class Client(threading.Thread):
    """A citizen's browser: logs in through the form, then votes for the next proposal and submits a proposal in
    turn (and searches, with ``search``), until ``stop`` is set; a failed write is retried, the same form resent."""

    def __init__(self, url: str, username: str, seed: Seed, stop: threading.Event, number: int,
                 search: bool = False, think_seconds: float = 0.05):
        super().__init__(daemon=True)
        self.url, self.username, self.seed, self.stop_event = url, username, seed, stop
        self.number, self.search, self.think = number, search, think_seconds
        self.answers: list[Answer] = []
        self.writes: list[Write] = []
        self.session = requests.Session()
        self.next_proposal = number % len(seed.proposal_ids) if seed.proposal_ids else 0
        self.voted = 0
        self.error: str | None = None
        self.logged_in = threading.Event()

    def request(self, kind: str, method: str, path: str, **kwargs) -> requests.Response | None:
        started = time.monotonic()
        try:
            response = self.session.request(method, self.url + path, allow_redirects=False, timeout=30, **kwargs)
        except requests.RequestException:
            self.answers.append(Answer(kind, started, time.monotonic(), None))
            self.session.close()  # a new connection next time, as a browser would open
            return None
        self.answers.append(Answer(kind, started, time.monotonic(), response.status_code,
                                   response.headers.get("Retry-After")))
        return response

    def login(self) -> None:
        for _ in range(200):
            page = self.request("login", "GET", "/accounts/login")
            if page is not None and page.status_code == 200:
                response = self.request("login", "POST", "/accounts/login",
                                        data={"csrf_token": TOKEN.search(page.text).group(1),
                                              "username": self.username, "password": PASSWORD})
                if response is not None and response.status_code == 303:
                    return
            time.sleep(0.1)
        seen = Counter(str(answer.status or "connection error") for answer in self.answers if answer.kind == "login")
        raise RuntimeError(f"{self.username} could not log in; login answers: {dict(seen)}")

    def form(self) -> tuple[str, str] | None:
        """The proposal form's CSRF token and submission key (None while the site fails)."""
        page = self.request("page", "GET", f"/suggestions/new/{self.seed.campaign_id}")
        if page is None or page.status_code != 200:
            return None
        key = SUBMISSION_KEY.search(page.text)
        return TOKEN.search(page.text).group(1), key.group(1) if key else ""

    def run(self) -> None:
        try:
            self.login()
            self.logged_in.set()
            turn = 0
            while not self.stop_event.is_set():
                turn += 1
                if turn % 2 and self.voted < len(self.seed.proposal_ids):
                    self.vote()
                else:
                    self.submit(turn)
                if self.search and turn % 3 == 0:
                    self.request("search", "GET", "/search/", params={"q": "信号灯"})
                time.sleep(self.think)
        except Exception as error:  # noqa: BLE001 - reported with the drill's figures
            self.error = f"{type(error).__name__}: {error}"

    def _until_saved(self, write: Write, attempt) -> None:
        """Send ``attempt()`` until it answers saved (it returns the saved id) or the deadline passes."""
        write.first_tried = time.monotonic()
        self.writes.append(write)
        while time.monotonic() - write.first_tried < WRITE_DEADLINE_SECONDS:
            write.last_attempt_wall = time.time()
            saved = attempt()
            if saved is not None:
                write.saved_id, write.confirmed_at = saved, time.monotonic()
                return
            write.failures += 1
            retry = self.answers[-1].retry_after
            # As asked (Retry-After), and a little more: gunicorn closes a connection idle for its keep-alive
            # (2 s), and a request sent on it at that very moment would fail before reaching the site.
            time.sleep(min(float(retry), 3.0) + 0.25 if retry and retry.isdigit() else 0.2)

    def vote(self) -> None:
        proposal_id = self.seed.proposal_ids[self.next_proposal]
        self.next_proposal = (self.next_proposal + 1) % len(self.seed.proposal_ids)
        self.voted += 1
        token = None

        def attempt():
            nonlocal token
            if token is None:
                page = self.request("page", "GET", f"/suggestions/{proposal_id}")
                if page is None or page.status_code != 200:
                    return None
                token = TOKEN.search(page.text).group(1)
            response = self.request("vote", "POST", f"/suggestions/{proposal_id}/vote",
                                    data={"csrf_token": token, "value": "support"})
            if response is not None and response.status_code == 303:
                return proposal_id
            return None
        self._until_saved(Write("vote", self.username, proposal_id=proposal_id), attempt)

    def submit(self, turn: int) -> None:
        title = f"演练{self.number}号第{turn}条建议在学校门口设减速带"
        form = None

        def attempt():
            nonlocal form
            if form is None:
                form = self.form()
                if form is None:
                    return None
            token, key = form
            response = self.request("submit", "POST", f"/suggestions/new/{self.seed.campaign_id}", data={
                "csrf_token": token, "submission_key": key, "title": title, "category": "transport",
                "message_type": "suggestion",
                "body": f"{self.username}：学校门口车速快，上下学时段孩子过马路危险，建议设置减速带（第{turn}次）。"})
            if response is not None and response.status_code == 303:
                found = re.search(r"/suggestions/(\d+)$", response.headers.get("Location", ""))
                return int(found.group(1)) if found else None
            return None
        self._until_saved(Write("submit", self.username, title=title), attempt)


# --- figures and audit -------------------------------------------------------------------------------------------

@dataclass
class Report:
    name: str
    fault: str
    seconds: float = 0.0
    answers: Counter = field(default_factory=Counter)
    retry_after_missing: int = 0
    first_failure: float | None = None
    last_failure: float | None = None
    recovered_after: float | None = None
    writes_confirmed: Counter = field(default_factory=Counter)
    writes_unresolved: int = 0
    committed_before_told: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    load: tuple = ()
    failed_requests: Counter = field(default_factory=Counter)  # "vote 503", "page no connection"…
    good_after_fault: bool = False  # a good answer to a request sent once the fault was over
    client_errors: list[str] = field(default_factory=list)

    def print(self) -> None:
        print(f"\n== {self.name}: {self.fault}")
        print(f"   load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in self.load)}; 2 cores")
        total = sum(self.answers.values())
        print(f"   answers: {total} in {self.seconds:.1f} s: " + ", ".join(f"{k} {v}" for k, v in
                                                                           sorted(self.answers.items())))
        if self.retry_after_missing:
            print(f"   503 answers without Retry-After: {self.retry_after_missing}")

        def when(x):
            return "-" if x is None else f"{x:+.2f} s"
        if self.first_failure is None:
            print("   failures (5xx, 429, no connection) from the fault: none")
        else:
            print(f"   failures (5xx, 429, no connection) from the fault: first {when(self.first_failure)}, "
                  f"last {when(self.last_failure)}; first good answer after the last failure "
                  f"{when(self.recovered_after)}")
            print("   failed requests: " + ", ".join(f"{k} {v}" for k, v in sorted(self.failed_requests.items())))
        print("   writes confirmed to their authors: " + ", ".join(f"{k} {v}" for k, v in
                                                                    sorted(self.writes_confirmed.items()))
              + f"; unresolved after {WRITE_DEADLINE_SECONDS} s of retries: {self.writes_unresolved}")
        print(f"   writes committed by an attempt that reported a failure (found again by the resend): "
              f"{self.committed_before_told}")
        for note in self.notes:
            print(f"   {note}")
        for error in self.client_errors:
            print(f"   client stopped: {error}")
        print("   audit: " + ("nothing lost, nothing duplicated, counters equal rows, no orphans"
                              if not self.problems else "PROBLEMS"))
        for problem in self.problems:
            print(f"     - {problem}")


def tally(report: Report, clients: list[Client], fault_at: float, fault_until: float, started: float) -> None:
    """Answers by class, and the failures' timing relative to the fault (``fault_until``: when it was undone)."""
    answers = [a for c in clients for a in c.answers]
    report.seconds = max((a.ended for a in answers), default=started) - started
    for answer in answers:
        if answer.status is None:
            report.answers["connection error"] += 1
        elif answer.status in (429, 503, 500):
            report.answers[str(answer.status)] += 1
            report.retry_after_missing += answer.status == 503 and not answer.retry_after
        else:
            report.answers[f"{answer.status // 100}xx"] += 1
    failures = [a for a in answers if not a.good and a.ended >= fault_at]
    report.failed_requests.update(f"{a.kind} {a.status or 'no connection'}" for a in failures)
    if failures:
        report.first_failure = min(a.ended for a in failures) - fault_at
        last = max(a.ended for a in failures)
        report.last_failure = last - fault_at
        after = [a.ended for a in answers if a.good and a.started >= last]
        report.recovered_after = (min(after) - fault_at) if after else None
    report.good_after_fault = any(a.good and a.started >= fault_until for a in answers)
    for client in clients:
        report.writes_confirmed.update(w.kind for w in client.writes if w.saved_id is not None)
        report.writes_unresolved += sum(1 for w in client.writes if w.saved_id is None)
        if client.error:
            report.client_errors.append(f"{client.username}: {client.error}")


def created_before(created_at, moment: float) -> bool:
    """True if a row's ``created_at`` (UTC, as the driver gives it) is earlier than ``moment`` (time.time())."""
    if isinstance(created_at, str):
        created_at = datetime.fromisoformat(created_at)
    if created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=UTC)
    return created_at.timestamp() < moment


def audit(database_url: str, clients: list[Client], report: Report) -> None:
    """Compare what the clients were told with the database."""
    engine = sa.create_engine(database_url)
    problems = report.problems
    with engine.connect() as conn:
        users = dict(conn.execute(sa.text("SELECT username, id FROM users")).all())
        titles = Counter(t for (t,) in conn.execute(sa.text("SELECT title FROM suggestions WHERE title LIKE '演练%'")))
        duplicated = [t for t, n in titles.items() if n > 1]
        if duplicated:
            problems.append(f"{len(duplicated)} proposal(s) saved twice, e.g. {duplicated[0]}")
        rows = {(row.title, row.author_id): row for row in conn.execute(sa.text(
            "SELECT id, title, author_id, created_at FROM suggestions WHERE title LIKE '演练%'"))}
        votes = {(s, u): v for s, u, v in conn.execute(sa.text("SELECT suggestion_id, user_id, value FROM votes"))}
        for client in clients:
            for write in client.writes:
                if write.saved_id is None:
                    continue
                if write.kind == "vote":
                    if votes.get((write.proposal_id, users[write.username])) != 1:
                        problems.append(f"lost vote: {write.username} on {write.proposal_id}")
                    continue
                row = rows.get((write.title, users[write.username]))
                if row is None:
                    problems.append(f"lost proposal: {write.title}")
                elif row.id != write.saved_id:
                    problems.append(f"{write.title}: told #{write.saved_id}, saved as #{row.id}")
                elif write.failures and created_before(row.created_at, write.last_attempt_wall):
                    report.committed_before_told += 1
        drift = conn.execute(sa.text(
            "SELECT count(*) FROM suggestions s WHERE s.support_count != (SELECT count(*) FROM votes v "
            "WHERE v.suggestion_id = s.id AND v.value = 1 AND v.held_at IS NULL) OR s.oppose_count != "
            "(SELECT count(*) FROM votes v WHERE v.suggestion_id = s.id AND v.value = -1 AND v.held_at IS NULL)"
        )).scalar()
        if drift:
            problems.append(f"{drift} proposal(s) whose counters differ from their vote rows")
        unaudited = conn.execute(sa.text(
            "SELECT count(*) FROM suggestions s WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE "
            "a.target_type = 'suggestions' AND a.target_id = s.id AND a.action = 'suggestion.submit')")).scalar()
        if unaudited:
            problems.append(f"{unaudited} proposal(s) without their audit row (half-written)")
        orphans = conn.execute(sa.text(
            "SELECT (SELECT count(*) FROM votes v WHERE NOT EXISTS (SELECT 1 FROM suggestions s WHERE "
            "s.id = v.suggestion_id)) + (SELECT count(*) FROM audit_log a WHERE a.target_type = 'suggestions' AND "
            "NOT EXISTS (SELECT 1 FROM suggestions s WHERE s.id = a.target_id)) + (SELECT count(*) FROM "
            "private_contacts c WHERE NOT EXISTS (SELECT 1 FROM suggestions s WHERE s.id = c.suggestion_id))"
        )).scalar()
        if orphans:
            problems.append(f"{orphans} orphan row(s) (votes, audit rows or contacts of no proposal)")
    engine.dispose()




def index_caught_up(database_url: str, index_dir: Path) -> tuple[bool, str]:
    """True when the search queue is empty and the Whoosh index holds every public proposal (and no other)."""
    from whoosh import index as whoosh_index
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        queued = conn.execute(sa.text("SELECT count(*) FROM search_queue")).scalar()
        public = {i for (i,) in conn.execute(sa.text("SELECT id FROM suggestions WHERE public"))}
    engine.dispose()
    with whoosh_index.open_dir(str(index_dir)).searcher() as searcher:
        indexed = {int(fields["id"]) for fields in searcher.all_stored_fields()}
    return queued == 0 and indexed == public, f"queue {queued}, public {len(public)}, indexed {len(indexed)}, " \
                                              f"missing {len(public - indexed)}"


def wait_for(check, seconds: float) -> tuple[float | None, str]:
    """Poll ``check()`` (-> (done, detail)) until done; returns (seconds taken or None, the last detail)."""
    started = time.monotonic()
    while True:
        done, detail = check()
        if done:
            return time.monotonic() - started, detail
        if time.monotonic() - started > seconds:
            return None, detail
        time.sleep(0.5)


# --- the drills --------------------------------------------------------------------------------------------------

@dataclass
class Options:
    seconds: float = 6.0  # load before and after the fault, together
    clients: int = 8
    outage: float = 10.0  # how long Redis stays stopped, the disk full, the lock held in total
    proposals: int = 300
    limits_return: bool = True  # redis_stop: also wait (up to 60 s) for the rate limits to count in Redis again
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="jianyan-faults-")))


def under_load(url: str, seed: Seed, options: Options, report: Report, database_url: str, inject, undo=None,
               hold: float = 0.0, search: bool = False) -> list[Client]:
    """Clients write for half of ``options.seconds``; ``inject()``; after ``hold`` seconds ``undo()``; the other
    half; then one more client logs in, votes and submits; then tally and audit."""
    stop = threading.Event()
    clients = [Client(url, name, seed, stop, n, search=search) for n, name in enumerate(seed.usernames)]
    started = time.monotonic()
    for client in clients:
        client.start()
    # The fault must meet writes, not logins: on a busy machine logging in can take longer than the first half.
    for client in clients:
        client.logged_in.wait(60)
    time.sleep(options.seconds / 2)
    fault_at = time.monotonic()
    inject()
    if undo is not None:
        time.sleep(hold)
        undo()
    fault_until = time.monotonic()
    time.sleep(options.seconds / 2)
    stop.set()
    for client in clients:
        client.join(WRITE_DEADLINE_SECONDS + 40)
    # Once the load has stopped, a newcomer logs in, votes and submits: the site must serve it by itself.
    newcomer = Client(url, seed.usernames[0], seed, threading.Event(), len(clients) + 100)
    newcomer.login()
    newcomer.vote()
    newcomer.submit(0)
    clients.append(newcomer)
    report.load = os.getloadavg()
    tally(report, clients, fault_at, fault_until, started)
    audit(database_url, clients, report)
    if report.answers.get("500"):
        report.problems.append(f"{report.answers['500']} answer(s) 500")
    if report.retry_after_missing:
        report.problems.append(f"{report.retry_after_missing} answer(s) 503 without Retry-After")
    if report.writes_unresolved:
        report.problems.append(f"{report.writes_unresolved} write(s) still failing after {WRITE_DEADLINE_SECONDS} s")
    if not report.good_after_fault or (report.first_failure is not None and report.recovered_after is None):
        report.problems.append("no good answer after the fault")
    report.client_errors and report.problems.append("a client stopped with an error")
    return clients


def sqlite_site(options: Options, name: str, **settings) -> tuple[str, Seed, Server]:
    folder = options.folder / name
    folder.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{folder / 'site.db'}"
    seed = prepare_database(database_url, folder, options.clients, options.proposals)
    return database_url, seed, Server(site_env(database_url, folder, **settings), folder / "server.log")


def drill_kill_worker(options: Options) -> Report:
    """kill -9 each gunicorn worker in turn (0.5 s apart) while clients vote and submit; gunicorn's master starts
    new ones."""
    report = Report("kill_worker", "kill -9 of each of the two gunicorn workers in turn, 0.5 s apart "
                                   "(SQLite, as make run)")
    database_url, seed, server = sqlite_site(options, "kill_worker")
    victims = server.workers()

    def kill_each():
        for victim in victims:
            os.kill(victim, signal.SIGKILL)
            time.sleep(0.5)
    try:
        under_load(server.url, seed, options, report, database_url, kill_each)
        workers = server.workers()
        replaced = len(workers) == 2 and not set(victims) & set(workers)
        report.notes.append(f"workers after the drill: {len(workers)} "
                            f"({'both replaced' if replaced else 'NOT replaced'})")
        if not replaced:
            report.problems.append("gunicorn did not replace the killed workers")
    finally:
        server.stop()
    return report


def drill_pg_restart(options: Options) -> Report:
    """`pg_ctl restart -m fast` of the drill's own PostgreSQL while clients vote and submit."""
    report = Report("pg_restart", "pg_ctl restart -m fast of the site's PostgreSQL (a temp cluster of its own)")
    folder = options.folder / "pg_restart"
    postgres = TempPostgres(folder)
    try:
        seed = prepare_database(postgres.url, folder, options.clients, options.proposals)
        server = Server(site_env(postgres.url, folder), folder / "server.log")
        try:
            took = []

            def restart():
                begun = time.monotonic()
                postgres.restart()
                took.append(time.monotonic() - begun)
            under_load(server.url, seed, options, report, postgres.url, restart)
            report.notes.append(f"pg_ctl restart took {took[0]:.2f} s")
        finally:
            server.stop()
    finally:
        postgres.stop()
    return report


def drill_redis_stop(options: Options) -> Report:
    """Stop the site's Redis (rate limits, page cache, jobs) for ``options.outage`` s during load, then start it
    again; a `flask jobs worker` runs throughout. Afterwards the search queue must drain by itself."""
    report = Report("redis_stop", f"the site's Redis (rate limits, page cache, job queue) stopped for "
                                  f"{options.outage:.0f} s, then started again")
    folder = options.folder / "redis_stop"
    folder.mkdir(parents=True, exist_ok=True)
    redis_server = TempRedis(folder)
    settings = {"RATELIMIT_STORAGE_URI": redis_server.url(0), "PAGE_CACHE_URL": redis_server.url(1),
                "JOBS_REDIS_URL": redis_server.url(2)}
    database_url = f"sqlite:///{folder / 'site.db'}"
    worker_log = open(folder / "worker.log", "a")  # noqa: SIM115 - open while the worker runs
    worker = None
    try:
        seed = prepare_database(database_url, folder, options.clients, options.proposals, index=True)
        env = site_env(database_url, folder, **settings)
        server = Server(env, folder / "server.log")
        worker = subprocess.Popen([str(ROOT / ".venv/bin/flask"), "--app", "app", "jobs", "worker"], cwd=ROOT,
                                  env={**os.environ, **env}, stdout=worker_log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        try:
            wait_for_worker(redis_server, worker, folder / "worker.log")
            under_load(server.url, seed, options, report, database_url, redis_server.stop, redis_server.start,
                       hold=options.outage, search=True)
            report.notes.append(f"job worker {'still running' if worker.poll() is None else 'EXITED'} after the drill")
            if worker.poll() is not None:
                report.problems.append(f"the job worker exited ({worker.returncode}) and did not come back")
            probe = Client(server.url, seed.usernames[0], seed, threading.Event(), 999)
            probe.login()
            probe.submit(0)  # one more submission after the drill: its job drains whatever the queue holds
            took, detail = wait_for(lambda: index_caught_up(database_url, folder / "index"), 60)
            report.notes.append(f"search index caught up {took:.1f} s after a submission once Redis was back"
                                if took is not None else f"search index NOT caught up after 60 s ({detail})")
            if took is None:
                report.problems.append(f"the search index did not catch up: {detail}")
            if options.limits_return:
                took = limits_back_in_redis(probe, redis_server)
                report.notes.append(f"rate limits counted in Redis again {took:.0f} s after the drill's load ended"
                                    if took is not None else "rate limits NOT back in Redis after 60 s")
                if took is None:
                    report.problems.append("the rate limits did not return to Redis")
        finally:
            server.stop()
    finally:
        try:
            if worker is not None:
                stop_group(worker)
        finally:
            worker_log.close()
            redis_server.stop()
    return report


def limits_back_in_redis(probe: Client, redis_server: TempRedis) -> float | None:
    """Seconds until a vote's rate-limit counter lands in Redis again (Flask-Limiter tries the store again after
    1, 2, 4 … 32 s); the restarted Redis is empty, so any key in its database 0 was written since."""
    import redis
    client = redis.Redis.from_url(redis_server.url(0))

    def counted():
        probe.vote()
        return bool(client.keys("*")), ""
    took, _detail = wait_for(counted, 60)
    return took


def wait_for_worker(redis_server: TempRedis, worker: subprocess.Popen, log_path: Path) -> None:
    """Wait until the job worker has registered with Redis (it loads jieba first: seconds on a busy machine)."""
    import redis
    client = redis.Redis.from_url(redis_server.url(2))
    deadline = time.monotonic() + 90
    while not client.smembers("rq:workers"):
        if worker.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the job worker did not start:\n" + log_path.read_text()[-3000:])
        time.sleep(0.2)


def fill(path: Path) -> int:
    """Write zeros into ``path`` until the file system is full (ENOSPC); returns the bytes written."""
    written, chunk = 0, b"\0" * 65536
    with open(path, "wb", buffering=0) as handle:
        while True:
            try:
                written += handle.write(chunk)
            except OSError:
                break
        for size in (4096, 512, 1):  # the last partial blocks
            try:
                while True:
                    written += handle.write(b"\0" * size)
            except OSError:
                pass
    return written


def drill_full_disk(options: Options) -> Report:
    """The Whoosh index on a small tmpfs, filled to ENOSPC during load, freed after ``options.outage`` s."""
    report = Report("full_disk", f"the search index's file system (tmpfs, 16 MB) full for {options.outage:.0f} s")
    folder = options.folder / "full_disk"
    mount = folder / "index-disk"
    mount.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], capture_output=True,
                            text=True)
    if result.returncode:
        raise RuntimeError(f"mount -t tmpfs failed (the drill needs root): {result.stderr.strip()}")
    try:
        index_dir, filler = mount / "index", mount / "filler"
        database_url = f"sqlite:///{folder / 'site.db'}"
        seed = prepare_database(database_url, folder, options.clients, options.proposals)
        prepare_index(database_url, folder, index_dir)
        server = Server(site_env(database_url, folder, index_dir=index_dir), folder / "server.log")
        try:
            written = []
            under_load(server.url, seed, options, report, database_url, lambda: written.append(fill(filler)),
                       filler.unlink, hold=options.outage, search=True)
            report.notes.append(f"filler written until ENOSPC: {written[0] / 1e6:.1f} MB")
            probe = Client(server.url, seed.usernames[0], seed, threading.Event(), 999)
            probe.login()
            probe.submit(0)  # the next submission after space returned drains the queue
            took, detail = wait_for(lambda: index_caught_up(database_url, index_dir), 60)
            report.notes.append(f"search index caught up {took:.1f} s after the next submission"
                                if took is not None else f"search index NOT caught up after 60 s ({detail})")
            if took is None:
                report.problems.append(f"the search index did not catch up: {detail}")
        finally:
            server.stop()
    finally:
        subprocess.run(["umount", str(mount)], check=False)
    return report


def prepare_index(database_url: str, folder: Path, index_dir: Path) -> None:
    """Build the Whoosh index in ``index_dir`` as `make run` does (`flask search catch-up`)."""
    from app import create_app
    from core.extensions import db
    from search.indexing import catch_up, get_backend
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "fault-drill",
                      "SEARCH_INDEX_DIR": str(index_dir), "ROUTER_DIR": str(folder / "router"),
                      "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context():
        catch_up(get_backend(), progress=False)
        db.session.remove()
        db.engine.dispose()


def drill_sqlite_locked(options: Options) -> Report:
    """Another process holds SQLite's write lock longer than the busy timeout (300 ms here), twice, while the
    clients write: the writes that cannot get the lock answer 503 with Retry-After, never 500."""
    report = Report("sqlite_locked", f"another process holds SQLite's write lock {options.outage / 2:.1f} s, twice "
                                     f"(busy timeout 300 ms)")
    database_url, seed, server = sqlite_site(options, "sqlite_locked", SQLITE_BUSY_TIMEOUT_MS=300)
    path = database_url[len("sqlite:///"):]

    def hold_twice():
        holder = subprocess.Popen([sys.executable, "-c", (
            "import sqlite3, sys, time\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "for _ in range(2):\n"
            "    c.execute('BEGIN IMMEDIATE'); time.sleep(float(sys.argv[2])); c.execute('ROLLBACK'); time.sleep(1)\n"
        ), path, str(options.outage / 2)])
        holder.wait(options.outage + 30)
    try:
        under_load(server.url, seed, options, report, database_url, hold_twice)
        if not report.answers.get("503"):
            report.notes.append("no request met the held lock (no 503): the drill did not exercise the fault")
            report.problems.append("no answer 503: the lock was never met")
    finally:
        server.stop()
    return report


DRILLS = {"kill_worker": drill_kill_worker, "pg_restart": drill_pg_restart, "redis_stop": drill_redis_stop,
          "full_disk": drill_full_disk, "sqlite_locked": drill_sqlite_locked}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__.split("\n\n")[0])
    parser.add_argument("drills", nargs="*", metavar="DRILL",
                        help=f"any of {', '.join(DRILLS)} (default: all)")
    parser.add_argument("--seconds", type=float, default=6.0, help="load around the fault (default 6)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--outage", type=float, default=10.0,
                        help="seconds Redis stays stopped / the disk full / the lock held in total (default 10)")
    parser.add_argument("--keep", action="store_true", help="keep the drills' folder (server and worker logs)")
    args = parser.parse_args(argv)
    unknown = set(args.drills) - set(DRILLS)
    if unknown:
        parser.error(f"unknown drill(s): {', '.join(sorted(unknown))}")
    options = Options(seconds=args.seconds, clients=args.clients, outage=args.outage)
    print(f"fault drills in {options.folder}; {os.cpu_count()} cores; load before: "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    failed = False
    for name in args.drills or list(DRILLS):
        report = DRILLS[name](options)
        report.print()
        failed = failed or bool(report.problems)
    if not args.keep:
        shutil.rmtree(options.folder, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
