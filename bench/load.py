"""Load benchmark of the production layout: simulated citizens against nginx, two app servers, a job worker and
cron on PostgreSQL and Redis (bench/stack.py), then an audit of what they wrote.

    python -m bench.load [--users 200] [--duration 60] [--keep] [--proposals 2400]

The load library is Locust (pinned in requirements-dev.txt), run as a library: a maintained load tool whose users
are Python classes with weighted tasks and a think time, so that one user can log in through the real form, keep
its session and CSRF token, read pages, search, vote and submit the way a citizen does; its gevent HTTP client
(FastHttpUser) keeps hundreds of users in one process. wrk (bench.pages) costs less CPU per request but has no
sessions, forms or per-user state.

Each simulated user is a citizen account created in the database beforehand (one password hash for all), logs in
through the login form, then runs tasks with a think time of 1 to 5 s, weighted 80 reading (home, campaign lists,
proposal pages), 10 searching, 8 voting (the proposal page's form: support or oppose, a third of the votes on five
"hot" proposals, so that votes contend for the same counters) and 2 submitting (the proposal form, with its CSRF
token). Each user sends an X-Forwarded-For address of its own (its own /24), which the stack's nginx believes
(``simulated_addresses``): per-address limits and flood detection see 200 visitors, not one. No rate limit is
raised; a refusal (429, or a form answered with an error) is counted as refused, not as lost.

The clock starts once every user has logged in and runs ``--duration`` seconds; users then finish the task they are
in. Printed: req/s and p50/p95/p99 per kind, answers by class (2xx/3xx, 429, other 4xx, 5xx, connection errors),
the machine's load (CPU busy over the run, load average) and what the client saw accepted. Then the audit, against
PostgreSQL and Redis once the worker has caught up (it waits up to ``--settle`` seconds for the job queues and the
search queue to empty): every submission the client saw accepted exists, every vote it saw accepted is a row with
that value (and the load's accounts have no vote it did not send), every proposal's counters equal its vote rows,
the search index holds every public proposal with its current status and support count, every accepted public
submission was placed in its campaign's clusters by the worker, and no job waits, runs or failed. Exits 1 if any
check fails.
"""
import argparse
import os
import random
import re
import resource
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

import gevent
import sqlalchemy as sa
from locust import FastHttpUser, between, task  # patches the standard library for gevent
from locust.env import Environment

from bench.analytics import percentile as nearest_rank
from bench.load_audit import audit, clusters_behind, settle
from bench.stack import running_stack

KINDS = ("read", "search", "vote", "submit")
PASSWORD = "load-test-password-7391"
SEARCH_WORDS = ("停车", "路灯", "学校", "电梯", "噪音", "公交", "垃圾", "绿化", "医院", "养老",
                "路灯 人民路", "小区 停车")
PLACES = ("人民路", "城南小学门口", "青溪大道", "解放街", "滨江公园", "火车站广场", "东门菜市场", "新华小区",
          "城北工业园")
PROBLEMS = ("路灯经常不亮", "早晚高峰拥堵严重", "缺少人行横道", "垃圾清运不及时", "停车位严重不足", "夜间施工噪音扰民",
            "公交班次太少", "人行道被占用", "排水不畅一下雨就积水")
ASKS = ("建议尽快安排检修并建立定期巡查制度。", "建议增设信号灯并安排交警在高峰时段疏导。",
        "建议增加清运频次并公布时间表。", "建议规划建设立体停车场并错峰共享单位车位。",
        "建议严格执行夜间施工审批并公开投诉电话。")
CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')
SUGGESTION_URL = re.compile(r"/suggestions/(\d+)$")


@dataclass
class Plan:
    """What the users act on, prepared in the database before the run."""
    accounts: list  # (user id, username), one per simulated user; each takes one when it starts
    user_ids: list  # all of them, for the audit
    read_paths: list
    vote_targets: list  # (proposal id, oppose allowed)
    hot_targets: list
    submit_campaigns: list  # (campaign id, category codes)
    load_session: object = None  # decodes a session cookie (the flashes) with the stack's key
    clusters_behind_before: int = 0  # clusters whose supporter count a recount would change, before the run


@dataclass
class Record:
    """What the client saw: timings in the measured window, answers by class, accepted writes."""
    measuring: bool = False
    logged_in: int = 0
    login_failures: int = 0
    samples: dict = field(default_factory=lambda: {kind: [] for kind in KINDS})
    answers: Counter = field(default_factory=Counter)  # (kind, class)
    outside_window: Counter = field(default_factory=Counter)  # requests before or after the clock, by name
    submissions: dict = field(default_factory=dict)  # proposal id -> (user id, title)
    votes: dict = field(default_factory=dict)  # (user id, proposal id) -> the value last accepted
    uncertain_votes: set = field(default_factory=set)  # sent, but the answer never said (5xx, connection, stopped)
    pending: set = field(default_factory=set)
    outcomes: Counter = field(default_factory=Counter)  # (kind, accepted | refused: why | uncertain)
    failures: Counter = field(default_factory=Counter)  # (name, 5xx status or 0, connection error)


PLAN: Plan | None = None
RECORD = Record()


def answer_class(status: int) -> str:
    if not status:
        return "connection error"
    if status >= 500:
        return "5xx"
    if status == 429:
        return "429"
    if status >= 400:
        return "4xx"
    return "ok"


def on_request(request_type, name, response_time, response_length, response=None, exception=None, **_kwargs):
    status = getattr(response, "status_code", 0) or 0
    if status >= 500 or not status:
        RECORD.failures[name, status, str(exception)[:80] if not status else ""] += 1
    if name in KINDS and RECORD.measuring:
        RECORD.samples[name].append(response_time)
        RECORD.answers[name, answer_class(status)] += 1
    else:
        RECORD.outside_window[name, answer_class(status)] += 1


class Citizen(FastHttpUser):
    """A logged-in citizen reading, searching, voting and submitting (weights 80/10/8/2)."""
    wait_time = between(1, 5)

    def on_start(self):
        self.user_id, username = PLAN.accounts.pop()
        self.address = f"10.{self.user_id // 256 % 256}.{self.user_id % 256}.7"  # a /24 of its own
        self.token = None
        page = self._get("/accounts/login", "login")
        token = CSRF.search(page.text or "") if page.status_code == 200 else None
        response = self._post("/accounts/login", "login", {"username": username, "password": PASSWORD,
                                                           "csrf_token": token.group(1) if token else ""})
        page = self._get("/", "login")  # a fresh token: logging in starts a new session
        token = CSRF.search(page.text or "") if page.status_code == 200 else None
        if response.status_code == 303 and token:
            self.token = token.group(1)
            RECORD.logged_in += 1
        else:
            RECORD.login_failures += 1
            self.stop()

    def _get(self, path: str, name: str):
        return self.client.get(path, name=name, headers={"X-Forwarded-For": self.address})

    def _post(self, path: str, name: str, data: dict):
        return self.client.post(path, name=name, data=urlencode(data), allow_redirects=False,
                                headers={"X-Forwarded-For": self.address,
                                         "Content-Type": "application/x-www-form-urlencoded"})

    def _last_flash(self) -> str | None:
        """The category of the message the last answer left for the next page ("success", "error"…)."""
        for cookie in self.client.cookiejar:
            if cookie.name == "session":
                flashes = PLAN.load_session(cookie.value).get("_flashes") or []
                return flashes[-1][0] if flashes else None
        return None

    @task(80)
    def read(self):
        self._get(random.choice(PLAN.read_paths), "read")

    @task(10)
    def search(self):
        self._get("/search/?q=" + quote(random.choice(SEARCH_WORDS)), "search")

    @task(8)
    def vote(self):
        suggestion_id, oppose_allowed = random.choice(PLAN.hot_targets if random.random() < 1 / 3
                                                      else PLAN.vote_targets)
        value = -1 if oppose_allowed and random.random() < 0.2 else 1
        pair = (self.user_id, suggestion_id)
        RECORD.pending.add(pair)
        response = self._post(f"/suggestions/{suggestion_id}/vote", "vote",
                              {"csrf_token": self.token, "value": "support" if value == 1 else "oppose"})
        RECORD.pending.discard(pair)
        status = response.status_code or 0
        if status == 303 and self._last_flash() == "success":
            RECORD.votes[pair] = value
            RECORD.outcomes["vote", "accepted"] += 1
        elif status == 0 or status >= 500:
            RECORD.uncertain_votes.add(pair)
            RECORD.outcomes["vote", "uncertain"] += 1
        else:
            RECORD.outcomes["vote", f"refused: {status} {self._last_flash() or ''}".strip()] += 1

    @task(2)
    def submit(self):
        campaign_id, categories = random.choice(PLAN.submit_campaigns)
        place, problem = random.choice(PLACES), random.choice(PROBLEMS)
        title = f"{place}{problem}的问题"
        body = f"{place}{problem}，附近居民反映了很久。{random.choice(ASKS)}"
        response = self._post(f"/suggestions/new/{campaign_id}", "submit",
                              {"csrf_token": self.token, "title": title, "body": body,
                               "category": random.choice(categories), "message_type": "suggestion"})
        status = response.status_code or 0
        found = SUGGESTION_URL.search(response.headers.get("Location") or "") if status == 303 else None
        if found:
            RECORD.submissions[int(found.group(1))] = (self.user_id, title)
            RECORD.outcomes["submit", "accepted"] += 1
        elif status == 0 or status >= 500:
            RECORD.outcomes["submit", "uncertain"] += 1
        else:
            RECORD.outcomes["submit", f"refused: {status}"] += 1


# --- before the run: accounts and targets ------------------------------------------------------------------------

def prepare(app, users: int) -> Plan:
    """Create the load's citizen accounts and pick what they read, vote on and submit to."""
    from accounts.models import User
    from accounts.services import hash_password
    from campaigns.models import Campaign
    from core.extensions import db
    from core.models import utcnow
    from suggestions.models import PUBLIC_STATUSES, Suggestion
    from suggestions.services import VOTABLE_STATUSES

    with app.app_context():
        password_hash = hash_password(PASSWORD)
        run = os.urandom(3).hex()
        accounts = [User(username=f"load_{run}_{n:04d}", password_hash=password_hash, role="citizen")
                    for n in range(users)]
        db.session.add_all(accounts)
        db.session.commit()
        now = utcnow()
        campaigns = list(db.session.scalars(sa.select(Campaign)))
        open_ids = {c.id for c in campaigns if c.accepts_submissions(now) and not c.phone_to_vote}
        oppose = {c.id: c.allow_oppose for c in campaigns}
        public = db.session.execute(sa.select(Suggestion.id, Suggestion.campaign_id, Suggestion.status)
                                    .where(Suggestion.status.in_(PUBLIC_STATUSES))).all()
        targets = [(s.id, oppose[s.campaign_id]) for s in public
                   if s.campaign_id in open_ids and s.status in VOTABLE_STATUSES]
        submit_campaigns = [(c.id, [cat.code for cat in c.categories]) for c in campaigns
                            if c.accepts_submissions(now) and not c.phone_to_submit and c.categories]
        read_paths = (["/"] * 10 + ["/campaigns/"] * 5 + [f"/campaigns/{c.id}" for c in campaigns]
                      + [f"/campaigns/{c.id}?page=2" for c in campaigns]
                      + [f"/suggestions/{s.id}" for s in random.sample(public, min(400, len(public)))])
        if not targets or not submit_campaigns:
            raise SystemExit("the demo data has no open campaign to vote in or submit to")
        return Plan(accounts=[(u.id, u.username) for u in accounts], user_ids=[u.id for u in accounts],
                    read_paths=read_paths, vote_targets=targets,
                    hot_targets=random.sample(targets, min(5, len(targets))), submit_campaigns=submit_campaigns,
                    load_session=app.session_interface.get_signing_serializer(app).loads,
                    clusters_behind_before=clusters_behind())


# --- the run ------------------------------------------------------------------------------------------------------

def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine so far (/proc/stat)."""
    values = [int(v) for v in open("/proc/stat").readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def run_load(url: str, users: int, duration: int, spawn_rate: float) -> dict:
    env = Environment(user_classes=[Citizen], host=url, stop_timeout=60)
    env.events.request.add_listener(on_request)
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=spawn_rate)
    deadline = time.monotonic() + 300
    while RECORD.logged_in + RECORD.login_failures < users and time.monotonic() < deadline:
        gevent.sleep(0.2)
    busy0, total0 = cpu_times()
    own0 = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    RECORD.measuring = True
    gevent.sleep(duration)
    RECORD.measuring = False
    seconds = time.monotonic() - started
    busy1, total1 = cpu_times()
    own1 = resource.getrusage(resource.RUSAGE_SELF)
    load = os.getloadavg()
    runner.stop()  # each user finishes its task (stop_timeout), so every write's answer is seen
    runner.quit()
    RECORD.uncertain_votes |= RECORD.pending
    return {"seconds": seconds, "cpu_busy": (busy1 - busy0) / max(1, total1 - total0), "loadavg": load,
            "cores": os.cpu_count(),
            "generator_cpu": (own1.ru_utime + own1.ru_stime - own0.ru_utime - own0.ru_stime) / seconds}


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` of 1), NaN for no values."""
    return nearest_rank(values, round(share * 100)) if values else float("nan")


def print_figures(machine: dict, users: int) -> None:
    seconds = machine["seconds"]
    total = sum(len(v) for v in RECORD.samples.values())
    print(f"\n{users} users ({RECORD.logged_in} logged in, {RECORD.login_failures} failed to), {seconds:.0f} s: "
          f"{total} requests, {total / seconds:.1f} req/s")
    print(f"{'kind':8} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}   answers")
    for kind in KINDS:
        times = RECORD.samples[kind]
        answers = ", ".join(f"{cls} {n}" for (k, cls), n in sorted(RECORD.answers.items()) if k == kind)
        print(f"{kind:8} {len(times):8d} {len(times) / seconds:7.1f} {percentile(times, .50):8.0f} "
              f"{percentile(times, .95):8.0f} {percentile(times, .99):8.0f}   {answers}")
    classes = Counter()
    for (_kind, cls), n in RECORD.answers.items():
        classes[cls] += n
    print("answers by class: " + ", ".join(f"{cls} {classes.get(cls, 0)}"
                                            for cls in ("ok", "429", "4xx", "5xx", "connection error")))
    if RECORD.outside_window:
        print("outside the clock (logins, tasks finishing): "
              + ", ".join(f"{name} {cls} {n}" for (name, cls), n in sorted(RECORD.outside_window.items())))
    if RECORD.failures:
        print("5xx and connection errors, in and out of the clock: " + ", ".join(
            f"{name} {status or error} {n}" for (name, status, error), n in sorted(RECORD.failures.items())))
    print("writes: " + ", ".join(f"{kind} {what} {n}" for (kind, what), n in sorted(RECORD.outcomes.items())))
    load1, load5, _ = machine["loadavg"]
    print(f"machine: {machine['cores']} cores, CPU busy {machine['cpu_busy']:.0%} over the run, "
          f"load average {load1:.2f} (1 min), {load5:.2f} (5 min); the load generator (this process) used "
          f"{machine['generator_cpu']:.0%} of a core")


def diagnosis(stack) -> str:
    """Where the 5xx answers came from: nginx's access and error logs, the app servers' errors."""
    lines = [line for line in stack.log("nginx-access").splitlines() if re.search(r'" 5\d\d ', line)]
    errors = [line for name in ("app-1", "app-2", "worker") for line in stack.log(name).splitlines()
              if " ERROR " in line or "Error" in line or "[CRITICAL]" in line]
    return "\n".join([f"5xx in nginx's access log (first 10 of {len(lines)}):", *lines[:10],
                      "nginx's error log (last 10 lines):", *stack.log("nginx-error").splitlines()[-10:],
                      f"errors in the app servers' and the worker's logs (first 20 of {len(errors)}):",
                      *errors[:20]])


def main() -> None:
    global PLAN
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--duration", type=int, default=60, help="seconds of load once every user has logged in")
    parser.add_argument("--spawn-rate", type=float, default=20, help="users started per second")
    parser.add_argument("--proposals", type=int, default=2400, help="demo proposals in the fresh database")
    parser.add_argument("--settle", type=int, default=180, help="seconds the audit waits for the worker")
    parser.add_argument("--keep", action="store_true", help="keep the database and the stack's logs afterwards")
    args = parser.parse_args()

    from app import create_app
    print(f"starting the stack (nginx, 2 app servers, worker, cron; {args.proposals} demo proposals)…", flush=True)
    with running_stack(proposals=args.proposals, simulated_addresses=True, keep_workdir=args.keep,
                       keep_database=args.keep) as stack:
        print(f"stack at {stack.url} (app servers {', '.join(stack.app_urls)}; database {stack.database_url}; "
              f"logs {stack.workdir})", flush=True)
        os.environ.update({k: v for k, v in stack.env.items() if k.startswith("JIANYAN_")})
        app = create_app()
        PLAN = prepare(app, args.users)
        machine = run_load(stack.url, args.users, args.duration, args.spawn_rate)
        print_figures(machine, args.users)
        if RECORD.failures:
            print(diagnosis(stack))
        waited = settle(app, args.settle)
        print(f"\naudit (after {waited:.0f} s for the worker and the search queue to empty):")
        checks = audit(app, RECORD, PLAN)
        for what, passed, detail in checks:
            print(f"  {'PASS' if passed else 'FAIL'}  {what}: {detail}")
        stack.check_running()
        with app.app_context():
            from core.extensions import db
            db.engine.dispose()
    failed = [what for what, passed, _ in checks if not passed]
    print("audit: " + ("green" if not failed else f"{len(failed)} check(s) failed"))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
