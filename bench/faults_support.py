"""The fault drills' servers and data (``bench.faults``): a PostgreSQL cluster and a redis-server of the drill's own
(in temp folders, on free ports), the site under gunicorn as `make run` serves it, and the seeded database
(accounts, a campaign, proposals) the clients work on.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import requests

from bench.pages import free_port

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "drill-lamp-river-42"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SUBMISSION_KEY = re.compile(r'name="submission_key"[^>]*value="([^"]+)"')
WRITE_DEADLINE_SECONDS = 60  # a write still failing this long after it was first tried is reported unresolved


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
