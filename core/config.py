"""Default configuration. Overrides come from ``instance/config.py`` and ``JIANYAN_*`` environment variables."""
import os
import secrets
from pathlib import Path


class DefaultConfig:
    # Database: SQLite under instance/ unless JIANYAN_DATABASE_URL says otherwise (see resolve_database_url).
    DATABASE_URL = None
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SQLITE_BUSY_TIMEOUT_MS = 15000

    # Search: "whoosh" (index under instance/search-index unless SEARCH_INDEX_DIR says otherwise).
    SEARCH_BACKEND = "whoosh"
    SEARCH_INDEX_ON_REQUEST = True  # have the indexing queue drained (a job) after each request that changed proposals
    SEARCH_COUNTERS_DELAY = 60  # seconds a vote's new counters may wait before the index is refreshed
    SEARCH_DATABASE_URL = None  # the "postgres" backend's database; by default the application's own

    # Figures (analytics): pages rebuild the rollup when it is older than ANALYTICS_MAX_AGE_SECONDS, unless the
    # last rebuild took longer than ANALYTICS_INLINE_REFRESH_SECONDS: then run `flask analytics refresh` from cron.
    ANALYTICS_MAX_AGE_SECONDS = 300
    ANALYTICS_INLINE_REFRESH_SECONDS = 5

    # Background jobs (core/jobs.py): RQ queues on this Redis, run by `flask jobs worker`; unset (the embedded
    # default), each job runs in the process that asked for it, right after its commit.
    JOBS_REDIS_URL = None  # e.g. redis://127.0.0.1:6379/2
    JOBS_REDIS_TIMEOUT_SECONDS = 0.5  # an unreachable queue costs a request at most this per job, then the fallback
    JOBS_TIMEOUT_SECONDS = 600  # a job of the "default" queue running longer is stopped (and retried)
    JOBS_BATCH_TIMEOUT_SECONDS = 4 * 3600  # the "batch" queue: re-clustering a campaign, training the router
    JOBS_RETRY_INTERVALS = [10, 60, 300]  # seconds before each retry of a failed or abandoned job
    JOBS_ABANDONED_GRACE_SECONDS = 60  # a job's worker is taken for dead this long after the job's timeout
    JOBS_MAINTENANCE_SECONDS = 60  # how often an idle worker looks for abandoned jobs

    # Logs: "text" (one line per record) or "json" (one object per line); every record carries the request id.
    LOG_FORMAT = "text"
    LOG_LEVEL = "INFO"

    # Languages and time: Simplified Chinese first, English second; stored UTC, shown in Asia/Shanghai.
    LANGUAGES = {"zh_Hans": "简体中文", "en": "English"}
    BABEL_DEFAULT_LOCALE = "zh_Hans"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"

    # Requests and sessions. Behind a reverse proxy, TRUSTED_PROXIES is how many proxies set X-Forwarded-For and
    # -Proto (Werkzeug's ProxyFix): visitors' addresses (rate limits) and https links come from them. Production
    # over HTTPS: SESSION_COOKIE_SECURE and REMEMBER_COOKIE_SECURE true, HSTS_SECONDS e.g. 31536000.
    TRUSTED_PROXIES = 0
    HSTS_SECONDS = 0
    MAX_CONTENT_LENGTH = 1024 * 1024
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = None  # tokens live as long as the session; a long proposal must not lose its token

    # Pages anonymous visitors read are kept this many seconds (0: off), in memory or Redis (core/page_cache.py).
    PAGE_CACHE_SECONDS = 10
    PAGE_CACHE_URL = None  # e.g. redis://127.0.0.1:6379/1: one cache for every worker and server

    # Rate limits on login and registration (Flask-Limiter). Memory storage is per process: use Redis
    # (JIANYAN_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0) when several workers or servers run.
    RATELIMIT_STORAGE_URI = "memory://"
    LOGIN_RATE_LIMIT = "10 per minute"
    REGISTER_RATE_LIMIT = "20 per hour"
    API_WRITE_RATE_LIMIT = "30 per minute"  # JSON API writes (submit, support), per API token
    PASSWORD_RATE_LIMIT = "10 per hour"  # password changes and reset requests, per address

    # Accounts: a reset link works once, within this many minutes; pseudonyms (网友·3F8A2C) of people without a
    # display name are keyed by PSEUDONYM_KEY, or by the secret key when it is not set (changing it renames them).
    PASSWORD_RESET_MAX_AGE_MINUTES = 60
    PSEUDONYM_KEY = None

    # Password hashing (argon2id). Tests lower the cost; production keeps the library's defaults.
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536

    # Outgoing mail (reminders), delivered from the outbox by `flask mail send-outbox`.
    MAIL_SERVER = "127.0.0.1"
    MAIL_PORT = 25
    MAIL_USE_STARTTLS = False
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_FROM = "jianyan@localhost"
    SITE_URL = "http://127.0.0.1:5000"  # the public address, for links in e-mail
    DUE_SOON_WORKING_DAYS = 3  # staff lists and reminders: replies due within this many working days

    # Content limits.
    TITLE_MAX_LENGTH = 80
    BODY_MAX_LENGTH = 5000
    PAGE_SIZE = 20
    LIST_COUNT_LIMIT = 10_000  # long lists count up to this many rows and then say "10,000+"
    CLOSING_SOON_DAYS = 7


def resolve_database_url(url: str | None, instance_path: str) -> str:
    """The SQLAlchemy URL: the given one (PostgreSQL URLs use psycopg 3), or SQLite under instance/."""
    if not url:
        return "sqlite:///" + str(Path(instance_path) / "jianyan.db")
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def load_or_create_secret_key(instance_path: str) -> str:
    """Read instance/secret_key, creating it (mode 600) on first run. The file is git-ignored."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        os.makedirs(instance_path, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()
