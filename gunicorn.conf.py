"""gunicorn settings for `make run` (gunicorn reads this file from the directory it starts in)."""
import os
import shutil

workers = 2
threads = 4
# A search of 200 Chinese characters is 1,800 bytes once encoded; a longer one typed into the address bar should get
# the site's own message, not gunicorn's "Request Line is too large" (its default limit is 4,094 bytes).
limit_request_line = 8190
# No gunicorn access log: the application logs every request itself (core/logs.py), with its X-Request-Id, method,
# path, status and duration, as text or JSON (JIANYAN_LOG_FORMAT).
accesslog = None


def on_starting(server):
    """Prometheus metrics (ops/metrics.py): every worker writes its samples to PROMETHEUS_MULTIPROC_DIR and a scrape
    sums them. Unless set, a folder of this server's own (instance/prometheus/<pid>: two servers started from one
    checkout must not share one); emptied now, since an earlier run's samples would be summed with this one's. Set
    here, in the master, so the workers inherit it before they import the application."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.path.join(
        os.getcwd(), "instance", "prometheus", str(os.getpid()))
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder


def child_exit(server, worker):
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if os.path.basename(os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")) == str(os.getpid()):
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def post_worker_init(worker):
    """Before the worker takes its first request, not during it: load jieba's dictionary (about 1.5 s), compile
    every template, open a database connection and serve the home page and a search once (a first page view
    otherwise paid ~0.3 s for them; the first search ~0.2 s more for the search backend's imports, connection and
    the database's catalogue of its tables), and make the counts typing hints weigh words with (about 0.5 s,
    ``issue_texts.shipped_background``) and import the parts of scikit-learn they use (about 2 s; the modules
    import it where they use it, so that `flask` commands which do not need it start faster). Warn when rate limits
    are counted per process while several processes serve (each would allow the full limit)."""
    from core.chinese import load_jieba
    from core.extensions import db
    from suggestions.issue_texts import shipped_background

    load_jieba()
    shipped_background()
    import sklearn.feature_extraction.text  # noqa: F401
    import sklearn.preprocessing  # noqa: F401
    app = worker.wsgi
    for name in app.jinja_env.list_templates(extensions=("html",)):
        app.jinja_env.get_template(name)
    with app.app_context(), db.engine.connect():
        pass
    client = app.test_client()
    client.get("/")  # the query compilation and translation catalogues every page needs
    client.get("/search/?q=%E9%97%AE%E9%A2%98")  # 问题: a word most proposals hold, so its facets are counted too
    storage = app.config.get("RATELIMIT_STORAGE_URI") or ""
    if worker.cfg.workers > 1 and storage.startswith("memory://"):
        worker.log.warning("RATELIMIT_STORAGE_URI is memory://: each of the %d workers counts rate limits on its own; "
                           "leave it unset (a SQLite file every worker shares) or use redis://", worker.cfg.workers)
