"""gunicorn settings for `make run` (gunicorn reads this file from the directory it starts in)."""
workers = 2
threads = 4
# A search of 200 Chinese characters is 1,800 bytes once encoded; a longer one typed into the address bar should get
# the site's own message, not gunicorn's "Request Line is too large" (its default limit is 4,094 bytes).
limit_request_line = 8190
# No gunicorn access log: the application logs every request itself (core/logs.py), with its X-Request-Id, method,
# path, status and duration, as text or JSON (JIANYAN_LOG_FORMAT).
accesslog = None


def post_worker_init(worker):
    """Load jieba's dictionary (about 1.5 s) before the worker takes its first request, not during it."""
    from core.chinese import load_jieba
    load_jieba()
