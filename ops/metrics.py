"""Metrics for Prometheus at ``/metrics``, with ``prometheus_client`` (the Prometheus project's own Python library):
requests by method, endpoint and status and their duration, and at each scrape the depth of the search queue and of
the job queues.

Under gunicorn every worker writes its samples to files in ``PROMETHEUS_MULTIPROC_DIR`` (gunicorn.conf.py sets it
to ``instance/prometheus`` unless set, empties it at start and marks each exited worker), and a scrape of any
worker sums them all: the figures are the server's, not one process's. Elsewhere (``flask run``, tests) they are
the process's own. Each app server exposes its own; Prometheus scrapes each and sums. ``/metrics`` answers only
requests from ``METRICS_ALLOWED_NETWORKS`` (the machine itself by default: a scraper on it, or nginx passing
an internal location), and 404 to everyone else: endpoint names and queue depths are not for the public.
"""
import ipaddress
import os
import time

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

bp = Blueprint("metrics", __name__)

REQUESTS = Counter("jianyan_requests_total", "HTTP requests answered", ["method", "endpoint", "status"])
DURATION = Histogram("jianyan_request_duration_seconds", "Time to answer a request", ["method", "endpoint"],
                     buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


def install(app: Flask) -> None:
    """Count and time every request (by the view's endpoint, so that made-up URLs do not each make a series)."""
    app.register_blueprint(bp)

    @app.before_request
    def _start_clock():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response):
        started = g.pop("metrics_started", None)
        endpoint = request.endpoint or "unmatched"
        REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
        if started is not None:
            DURATION.labels(request.method, endpoint).observe(time.perf_counter() - started)
        return response


class _QueueCollector:
    """The queues' depth, read at each scrape (a failure leaves them out; /readyz says why)."""

    def collect(self):
        from ops.views import queue_depths
        depths = queue_depths()
        family = GaugeMetricFamily("jianyan_queue_depth", "Waiting items", labels=["queue"])
        for name, depth in depths.items():
            if depth is not None:
                family.add_metric([name], depth)
        yield family


def _allowed() -> bool:
    networks = [ipaddress.ip_network(n.strip()) for n in current_app.config["METRICS_ALLOWED_NETWORKS"].split(",")
                if n.strip()]
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in networks)


@bp.get("/metrics")
def metrics():
    """The metrics in Prometheus' text format (404 outside ``METRICS_ALLOWED_NETWORKS``)."""
    if not _allowed():
        abort(404)
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)  # every worker's samples, summed
    else:
        for collector in (REQUESTS, DURATION):
            registry.register(collector)
    registry.register(_QueueCollector())
    response = Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response
