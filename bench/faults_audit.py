"""The fault drills' clients and their audit (``bench.faults``): threads that log in through the form and vote and
submit as a browser would (retrying a failed write with the same submission key), what they saw, tallied
around the fault, and the audit of the database afterwards (every write a client was told was saved exists
exactly once, counters equal the vote rows, every proposal has its audit row).
"""
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import requests
import sqlalchemy as sa

from bench.faults_support import (
    PASSWORD,
    SUBMISSION_KEY,
    TOKEN,
    WRITE_DEADLINE_SECONDS,
    Seed,
)


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
