"""The production layout on one machine: nginx in front of two gunicorn app servers, one job worker, one cron,
PostgreSQL and Redis (docs/deploy.md). Used by the browser test of the stack and by ``python -m bench.load``.

    with running_stack(proposals=300) as stack:
        stack.url          # nginx, e.g. http://127.0.0.1:41234
        stack.app_urls     # the app servers behind it
        stack.flask("jobs", "status")

It creates a fresh PostgreSQL database (``jianyan_stack_<random>``) on the machine's server, or uses the one given,
and a redis-server of its own on a free port (jobs, rate limits and the page cache in databases 2, 0 and 1), so
that two runs never share a key and nothing of the machine's Redis is touched. The database gets the schema, the
demo data, the default sensitive words and the search index, as ``make run`` does. Every process it starts runs in
a process group of its own and is stopped with it; the database it created is dropped, the one given is kept.
"""
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
NGINX = os.environ.get("JIANYAN_NGINX", shutil.which("nginx") or "/usr/sbin/nginx")
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


class StackError(RuntimeError):
    """A part of the stack could not be started."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _psycopg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def create_database(admin_url: str = ADMIN_URL) -> str:
    """A new, empty database next to ``admin_url``'s; returns its URL."""
    name = f"jianyan_stack_{secrets.token_hex(5)}"
    engine = sa.create_engine(_psycopg(admin_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str, admin_url: str = ADMIN_URL) -> None:
    name = sa.engine.make_url(url).database
    engine = sa.create_engine(_psycopg(admin_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


NGINX_CONF = """\
# nginx in front of the app servers, as docs/deploy.md describes (written by bench/stack.py for one run).
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    client_body_temp_path {workdir}/nginx-body;
    proxy_temp_path {workdir}/nginx-proxy;
    fastcgi_temp_path {workdir}/nginx-fastcgi;
    uwsgi_temp_path {workdir}/nginx-uwsgi;
    scgi_temp_path {workdir}/nginx-scgi;
    log_format upstream '$remote_addr "$request" $status $upstream_addr $request_time $request_id';
    access_log {workdir}/nginx-access.log upstream;
{real_ip}
    upstream jianyan {{
{servers}
        keepalive 64;
        # Idle connections to gunicorn are closed here before gunicorn closes them (its keepalive: 2 s): a request
        # sent on a connection gunicorn is closing is reset, and nginx then takes that server out for 10 s.
        keepalive_timeout 1s;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 2m;
        location /static/ {{
            alias {root}/static/;
            expires 1h;
        }}
        location / {{
            proxy_pass http://jianyan;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Request-Id $request_id;
            proxy_read_timeout 60s;
        }}
    }}
}}
"""
# Only for a load generator that stands in for the internet: nginx takes the client address from the
# X-Forwarded-For it sends (as it would from a CDN in front), so each simulated user has an address of its own.
REAL_IP = "    set_real_ip_from 127.0.0.1;\n    real_ip_header X-Forwarded-For;"


@dataclass
class Stack:
    url: str
    app_urls: list[str]
    database_url: str
    redis_url: str
    env: dict
    workdir: Path
    processes: dict = field(default_factory=dict)

    def flask(self, *args: str, timeout: float = 600) -> str:
        """Run ``flask --app app ARGS`` with the stack's settings; returns its output (raises on failure)."""
        done = subprocess.run([str(ROOT / ".venv/bin/flask"), "--app", "app", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise StackError(f"flask {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
        return done.stdout

    def log(self, name: str) -> str:
        """The output of one process so far: "app-1", "app-2", "worker", "cron", "nginx-access", "nginx-error"."""
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def check_running(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise StackError(f"{name} exited ({process.returncode}):\n{self.log(name)[-3000:]}")


def _start(stack: Stack, name: str, command: list[str]) -> subprocess.Popen:
    log = open(stack.workdir / f"{name}.log", "ab")  # noqa: SIM115 - kept open while the process runs
    process = subprocess.Popen(command, cwd=ROOT, env=stack.env, stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, start_new_session=True)
    log.close()  # the child has its own copy
    stack.processes[name] = process
    return process


def _stop_all(processes: list[subprocess.Popen]) -> None:
    """Stop the processes we started, each with everything in its process group: SIGTERM to all at once (each
    finishes what it is doing), then SIGKILL to any still running after 30 s."""
    for process in processes:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 30
    for process in processes:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(10)


def _wait_for(url: str, stack: Stack, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own local server
                if response.status == 200:
                    return
        except OSError:
            pass
        stack.check_running()
        if time.monotonic() > deadline:
            raise StackError(f"{url} did not answer within {seconds:.0f} s")
        time.sleep(0.3)


def _start_redis(stack: Stack, port: int) -> None:
    if not os.path.exists(REDIS_SERVER):
        raise StackError("redis-server is not installed (apt-get install redis-server)")
    _start(stack, "redis", [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                            "--appendonly", "no", "--dir", str(stack.workdir)])
    import redis
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            return
        except redis.ConnectionError:
            stack.check_running()
            time.sleep(0.05)
    raise StackError("redis-server did not start")


@contextmanager
def running_stack(*, app_servers: int = 2, proposals: int = 2400, database_url: str | None = None,
                  admin_url: str = ADMIN_URL, simulated_addresses: bool = False, keep_workdir: bool = False,
                  keep_database: bool = False, extra_env: dict | None = None) -> Iterator[Stack]:
    """Start the stack (see the module's docstring) and stop all of it on leaving.

    ``database_url``: use this database (already upgraded and filled: nothing is loaded) instead of a new one.
    ``simulated_addresses``: nginx believes the X-Forwarded-For the client sends (for bench.load's users).
    ``keep_workdir``, ``keep_database``: leave the logs, or the new database, for a look afterwards.
    """
    if not os.path.exists(NGINX):
        raise StackError("nginx is not installed (apt-get install nginx)")
    workdir = Path(tempfile.mkdtemp(prefix="jianyan-stack-"))
    with ExitStack() as cleanup:
        if not keep_workdir:
            cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
        fresh = database_url is None
        if fresh:
            database_url = create_database(admin_url)
            if not keep_database:
                cleanup.callback(drop_database, database_url, admin_url)
        redis_port, nginx_port = free_port(), free_port()
        redis_url = f"redis://127.0.0.1:{redis_port}"
        env = {**os.environ, "FLASK_APP": "app",
               "JIANYAN_DATABASE_URL": database_url, "JIANYAN_SEARCH_BACKEND": "postgres",
               "JIANYAN_SECRET_KEY": secrets.token_hex(32),  # one key for every server, or sessions break
               "JIANYAN_RATELIMIT_STORAGE_URI": f"{redis_url}/0", "JIANYAN_PAGE_CACHE_URL": f"{redis_url}/1",
               "JIANYAN_JOBS_REDIS_URL": f"{redis_url}/2", "JIANYAN_TRUSTED_PROXIES": "1",
               "JIANYAN_SITE_URL": f"http://127.0.0.1:{nginx_port}",
               "JIANYAN_ROUTER_DIR": str(workdir / "router"), "JIANYAN_SEARCH_INDEX_DIR": str(workdir / "index"),
               "JIANYAN_SIMILARITY_INDEX_DIR": str(workdir / "similarity"),  # the servers' shared folder
               **(extra_env or {})}
        stack = Stack(url=f"http://127.0.0.1:{nginx_port}", app_urls=[], database_url=database_url,
                      redis_url=redis_url, env=env, workdir=workdir)
        cleanup.callback(lambda: _stop_all(list(stack.processes.values())))

        _start_redis(stack, redis_port)
        if fresh:
            stack.flask("db", "upgrade")
            stack.flask("demo", "load", "--proposals", str(proposals))
            stack.flask("moderation", "seed-words")
            stack.flask("search", "catch-up")

        gunicorn = str(ROOT / ".venv/bin/gunicorn")
        for number in range(1, app_servers + 1):
            port = free_port()
            # As `make run` starts it: gunicorn.conf.py (workers, threads) is read from ROOT.
            _start(stack, f"app-{number}", [gunicorn, "--bind", f"127.0.0.1:{port}", "app:create_app()"])
            stack.app_urls.append(f"http://127.0.0.1:{port}")
        flask = [str(ROOT / ".venv/bin/flask"), "--app", "app"]
        _start(stack, "worker", [*flask, "jobs", "worker"])
        _start(stack, "cron", [*flask, "jobs", "cron"])
        for app_url in stack.app_urls:
            _wait_for(app_url + "/healthz", stack)

        conf = workdir / "nginx.conf"
        conf.write_text(NGINX_CONF.format(
            workdir=workdir, port=nginx_port, root=ROOT, real_ip=REAL_IP if simulated_addresses else "",
            servers="\n".join(f"        server {u.removeprefix('http://')};" for u in stack.app_urls)))
        _start(stack, "nginx", [NGINX, "-p", str(workdir), "-e", str(workdir / "nginx-error.log"), "-c", str(conf),
                                "-g", "daemon off;"])
        _wait_for(stack.url + "/readyz", stack)
        yield stack
