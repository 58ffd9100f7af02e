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

    # Typing hints (suggestions/similar.py): each campaign's similarity index is saved under SIMILARITY_INDEX_DIR
    # (default instance/similarity; on several machines, a folder each app server sees) and mapped by every process;
    # a process asks for a fresh one once it holds more than SIMILARITY_INDEX_REBUILD_AFTER proposals published since,
    # and keeps indexes it built itself up to SIMILARITY_INDEX_BUDGET proposals in all (about 1.6 KB each).
    SIMILARITY_INDEX_REBUILD_AFTER = 2_000
    SIMILARITY_INDEX_BUDGET = 200_000
    SIMILARITY_INDEX_MAPPED_MAX = 256  # mapped folders a process keeps (each holds one file open)

    # Clusters by issue (suggestions/issue_groups.py): each batch clustering joins groups of copies that a learned
    # model scores as one problem at one place; the model is SAME_ISSUE_MODEL (default
    # instance/same_issue_model.json, written by `flask suggestions train-similarity`) or the one shipped.
    # Joining costs about 1 s per 1,000 proposals in the bench's two processes, 1.9 s where jieba's words are not
    # kept yet (issue_words); the bench peaks at 2.4 GiB at 100,000 and 6.0 GiB at 300,000, and `flask suggestions
    # cluster` at 100,000 takes 359 s by issue in two processes, words cut (docs/benchmarks.md): a campaign with more
    # public proposals than ISSUE_GROUPING_MAX_PROPOSALS is clustered by copies only, and says so.
    ISSUE_GROUPING = True
    ISSUE_GROUPING_MAX_PROPOSALS = 100_000
    # `flask suggestions cluster` and the nightly re-clustering job read and score a large campaign in this many
    # forked processes (the command's --processes overrides it): the cores this process may use, at most 4, as each
    # holds its own working memory beside the shared pages (measured with 2: docs/benchmarks.md). The nightly job
    # uses them too: on a machine shared with the app servers, set it lower.
    CLUSTER_PROCESSES = min(len(os.sched_getaffinity(0)), 4)

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
    # /metrics (Prometheus) answers these networks only; 404 elsewhere (ops/metrics.py).
    METRICS_ALLOWED_NETWORKS = "127.0.0.0/8,::1/128"
    PAGE_CACHE_SECONDS = 10
    PAGE_CACHE_URL = None  # e.g. redis://127.0.0.1:6379/1: one cache for every worker and server

    # Rate limits (Flask-Limiter; core/ratelimit.py). The counters live where every worker sees them: a SQLite file
    # (instance/ratelimits.db) unless RATELIMIT_STORAGE_URI names Redis (redis://127.0.0.1:6379/0: every server);
    # "memory://" counts per process. While the store is down each process counts on its own (not a 500).
    RATELIMIT_STORAGE_URI = None
    RATELIMIT_KEY_PREFIX = "jianyan"
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    LOGIN_ACCOUNT_RATE_LIMIT = "10 per hour"  # login attempts on one account, from any address
    LOGIN_ADDRESS_RATE_LIMIT = "20 per 10 minutes;100 per day"  # failed logins from one address, any account
    REGISTER_RATE_LIMIT = "20 per hour"  # per address
    PASSWORD_RATE_LIMIT = "10 per hour"  # password changes and reset requests, per address
    SUBMIT_RATE_LIMIT = "10 per hour;30 per day"  # proposals saved per account (pages and API together)
    SUBMIT_ADDRESS_RATE_LIMIT = "30 per hour"  # proposals saved from one address
    VOTE_RATE_LIMIT = "30 per minute;500 per day"  # votes and withdrawals per account (pages and API together)
    REPORT_RATE_LIMIT = "20 per hour;50 per day"  # reports of proposals and replies per account
    API_WRITE_RATE_LIMIT = "30 per minute"  # JSON API writes (submit, support), per account (all its tokens)

    # Accounts: a reset link works once, within this many minutes; pseudonyms (网友·3F8A2C) of people without a
    # display name are keyed by PSEUDONYM_KEY, or by the secret key when it is not set (changing it renames them).
    PASSWORD_RESET_MAX_AGE_MINUTES = 60
    PSEUDONYM_KEY = None

    # Verified mobile numbers (accounts/phones.py), which a campaign may ask for. Codes go through SMS_BACKEND:
    # "outbox" writes them into the sms_outbox table (development; `flask mail show-sms`), a provider is one class
    # in core/sms.py. Code requests are also limited per address (PHONE_RATE_LIMIT): SMS costs money. Codes typed
    # back are limited per account and per address (every try counts), besides the wrong tries that void a code.
    SMS_BACKEND = "outbox"
    PHONE_CODE_MINUTES = 10
    PHONE_CODE_MAX_ATTEMPTS = 5  # wrong tries that void a code
    PHONE_CODES_PER_NUMBER_PER_HOUR = 3
    PHONE_CODES_PER_ACCOUNT_PER_HOUR = 5
    PHONE_CODE_RESEND_SECONDS = 60
    PHONE_RATE_LIMIT = "10 per hour"
    PHONE_CONFIRM_RATE_LIMIT = "20 per hour"  # codes typed back, per account
    PHONE_CONFIRM_ADDRESS_RATE_LIMIT = "60 per hour"  # codes typed back from one address, any account

    # Where requests come from. Votes and submissions keep a keyed hash of their /24 (IPv4) or /48 (IPv6) network
    # (core/network.py; NETWORK_KEY, by default the secret key), never the address. Behind a reverse proxy set
    # TRUSTED_PROXIES (above), or every request seems to come from the proxy's network.
    NETWORK_KEY = None

    # Coordinated floods (moderation/floods.py; docs/architecture.md says why these numbers). Detection reads the
    # last FLOOD_LOOKBACK_HOURS; run `flask moderation detect-floods` from cron every few minutes.
    FLOOD_LOOKBACK_HOURS = 24
    FLOOD_WINDOW_MINUTES = 60
    FLOOD_NEW_ACCOUNT_DAYS = 7  # an account this young when it acts is "new"
    FLOOD_NEW_ACCOUNT_SHARE = 0.5  # …and new accounts' supports make at least this share of a burst's
    FLOOD_MIN_SUPPORTS = 20  # supports of one proposal from new accounts, or from one network, within the window
    FLOOD_RAPID_SUPPORTS = 100  # supports of one proposal from any accounts within FLOOD_RAPID_MINUTES
    FLOOD_RAPID_MINUTES = 10
    FLOOD_TEXT_SIMILARITY = 0.8  # near-identical: copies and light edits, not citizens writing about one issue
    FLOOD_MIN_SUBMISSIONS = 20  # near-identical submissions to one campaign…
    FLOOD_MIN_AUTHORS = 10  # …from at least this many accounts…
    FLOOD_SUBMISSION_WINDOW_HOURS = 24  # …within this many hours

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
