"""A route fuzzer: every rule of the URL map and every method it takes, as an anonymous visitor, a citizen, a
body's staff and an administrator, with generated path values (huge, negative, zero, non-numeric, unicode),
query strings and bodies (form fields, JSON of every shape, empty, oversized, deeply nested, raw bytes), with and
without a valid CSRF token. No answer may be a 5xx, and a refused request (4xx) must leave the database as it was.

The same walk runs on SQLite and PostgreSQL. ``JIANYAN_FUZZ_EXAMPLES`` sets the examples per route, method and
role beyond the fixed edge cases (5 in the normal suite; e.g. 200 for a long run).
"""
import json
import os
import re
import zlib
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, example, given, seed, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from accounts.models import Membership, Role
from analytics.models import FigureCount, FiguresRefresh
from api import tokens
from core.extensions import db
from moderation import services as moderation_services
from moderation import words
from outcomes import services as outcome_services
from search.indexing import drain, get_backend
from suggestions import clustering, services
from tests.conftest import login
from tests.factories import make_body, make_campaign, make_staff, make_suggestion, make_user

EXAMPLES = int(os.environ.get("JIANYAN_FUZZ_EXAMPLES", "5"))
ROLES = ("anonymous", "citizen", "staff", "admin")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

# Numbers that overflow a 64-bit column, or sit just past a 32-bit one, and the usual edge values.
ODD_NUMBERS = ["0", "-1", "1", "2147483648", "9223372036854775807", "9223372036854775808",
               "99999999999999999999", "1e9", "0x10", "１２", "٣", "1.5", " 1", "", "NaN", "-0"]
TEXTS = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40)
ODD_TEXTS = ["长" * 300, "<script>alert(1)</script>", "../../etc/passwd", "%00", "null", "[]", "{}",
             "\u202e反转", "建議", "2030-01-01", "2026-13-45", "support", "oppose", "withdraw", "adopted",
             "satisfied", "y", "on", "transport", "suggestion", "admin", "county", "department"]
VALUES = st.one_of(st.sampled_from(ODD_NUMBERS), st.sampled_from(ODD_TEXTS), TEXTS,
                   st.integers(min_value=-2**70, max_value=2**70).map(str))

QUERY_KEYS = ["page", "per_page", "campaign", "body", "suggestion", "q", "sort", "state", "next", "year",
              "year_to", "level", "region", "category", "type", "status", "phase", "title", "inside_form",
              "kind", "message_type", "decision", "from", "to", "language", "tab", "actor", "action", "target_type",
              "target_id", "since", "until"]
FORM_KEYS = ["title", "body", "category", "message_type", "username", "password", "confirm", "display_name",
             "email", "value", "lead_body", "co_bodies", "to_body", "reason", "reject-reason", "hide-reason",
             "needs_investigation", "new_due_on", "satisfaction", "reasons", "comment", "decision", "content",
             "name", "name_en", "kind", "level", "region", "parent_id", "role", "language", "next", "body_id",
             "theme", "description", "opens_at", "closes_at", "categories", "screening", "allow_oppose",
             "open_now", "suggestion_id", "cluster_id", "other_cluster", "document_name", "document_number",
             "issuing_body", "issued_on", "link", "clause", "stage", "progress", "happened_on", "note",
             "region_scope", "reply_working_days", "investigation_working_days", "support_threshold",
             "support_window_days", "contact_email", "items", "action", "single", "reject_reason", "words",
             "max_extensions", "max_extension_working_days", "report_hide_threshold", "contact_name",
             "contact_phone", "contact_address", "contact_note", "privacy_reviewed", "move_details", "phone", "code",
             "phone_to_submit", "phone_to_vote", "to"]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70) | st.floats(allow_nan=False) | TEXTS,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(FORM_KEYS + ["campaign_id", "text", "contact", "move_personal_data"]) | TEXTS,
                      children, max_size=5),
    max_leaves=12)
NESTED = "[" * 100_000 + "]" * 100_000
NESTED_OBJECT = '{"title":' * 50_000 + "1" + "}" * 50_000
OVERSIZED = "建" * 2_000_000  # 6 MB, past MAX_CONTENT_LENGTH
RAW_BODIES = [("application/json", NESTED), ("application/json", NESTED_OBJECT), ("application/json", "{"),
              ("application/json", "\xff\xfe"), ("application/json", '"just a string"'),
              ("application/json", "12345"), ("text/plain", "title=x&body=y"), ("application/xml", "<a/>"),
              ("multipart/form-data", "--x\r\n"), ("application/x-www-form-urlencoded", OVERSIZED),
              ("application/x-www-form-urlencoded", "title=%FF%FE&body=%00"),
              ("application/x-www-form-urlencoded", "a=" + "&a=".join(["1"] * 5000)), ("", "")]


@dataclass
class Sent:
    """One generated request, described well enough to replay it by hand from a failure message."""
    method: str
    url: str
    kind: str
    body: object
    csrf: bool
    token: str

    def __str__(self) -> str:
        shown = repr(self.body)
        return f"{self.method} {self.url} [{self.kind}, csrf={self.csrf}, token={self.token}] {shown[:300]}"


def build_world():
    """Every kind of row a route can name: bodies, staff, an open, a draft and a screened campaign,
    public, pending and hidden proposals with votes, a reply, a cluster, an outcome, API tokens, the sensitive-word
    list with a held proposal, and reports of a proposal and a reply."""
    body = make_body("青溪县交通运输局")
    other_body = make_body("青溪县教育局")
    staff = make_staff(body, "fuzz_staff", role="manager")
    admin = make_user("fuzz_admin", role=Role.ADMIN)
    citizen = make_user("fuzz_citizen", display_name="王小明")
    moderator = make_user("fuzz_moderator", role=Role.MODERATOR)
    campaign = make_campaign(body)
    screened = make_campaign(body, title="需要审核的征集", screening=True)
    make_campaign(other_body, title="草稿征集", status="draft")
    first = make_suggestion(campaign, citizen)
    make_suggestion(campaign, make_user(), title="城南小学门口急需设置护学岗",
                    body="城南小学门口每天上下学时段车辆拥堵严重，学生过马路非常危险，建议增设护学岗。")
    other = make_suggestion(campaign, make_user(), title="建议青溪大道增设路灯",
                            body="青溪大道晚上太暗，行人和非机动车看不清路，建议增设路灯并定期检修。")
    make_suggestion(screened, citizen, title="一条待审核的建议", body="这条建议还在审核中，等待审核后公开。")
    hidden = make_suggestion(campaign, citizen, title="一条被隐藏的建议", body="这条建议被隐藏了，不应出现在任何地方。")
    services.hide_suggestion(moderator, hidden, "含个人信息")
    services.vote(citizen, other, 1)
    reply = services.reply_to_suggestion(staff, first, decision="adopted", content="您好，您的建议已采纳，我局将增设护学岗。")
    words.seed_default_words()
    make_suggestion(campaign, citizen, title="一条被敏感词拦下的建议", body="有人在公园里发传单，写着加微信代开发票，建议清理。")
    moderation_services.report(citizen, other, "off_topic", "与本次征集无关")
    moderation_services.report(moderator, reply, "personal_data")
    clustering.cluster_campaign(campaign)
    outcome = outcome_services.create_outcome(
        staff, body, title="青溪县中小学护学岗设置办法", document_name="关于设置护学岗的通知",
        document_number="青交发〔2026〕3号", link="https://example.gov.cn/notice/3", clause="第三条 学校门口设护学岗。",
        stage="issued", progress=40)
    outcome_services.link_suggestion(staff, outcome, first)
    secrets = {"citizen": tokens.create_token(citizen, "脚本")[1], "staff": tokens.create_token(staff, "脚本")[1],
               "admin": tokens.create_token(admin, "脚本")[1]}
    db.session.commit()
    drain(get_backend())
    return {"anonymous": None, "citizen": citizen, "staff": staff, "admin": admin}, secrets


def fingerprint() -> dict[str, int]:
    """A hash of every row of every table but the rollup (a cache that pages may rebuild on a read)."""
    skipped = {FigureCount.__tablename__, FiguresRefresh.__tablename__}
    db.session.commit()
    result = {table.name: hash(tuple(sorted(repr(tuple(row)) for row in db.session.execute(sa.select(table)))))
              for table in db.metadata.sorted_tables if table.name not in skipped}
    db.session.rollback()
    return result


READ_ONLY = re.compile(r"\s*(SELECT|PRAGMA|SAVEPOINT|RELEASE|ROLLBACK|COMMIT|BEGIN|SHOW|SET\s)", re.IGNORECASE)


class Fingerprints:
    """The database's fingerprint, taken again only after a statement that may change a row has run (any
    statement but a read), so that the requests that write nothing, most of them, cost no full-table reads."""

    def __init__(self, engine):
        self.engine, self.latest = engine, None
        sa.event.listen(engine, "before_cursor_execute", self._watch)

    def _watch(self, conn, cursor, statement, *args):  # noqa: ARG002 - the event's signature
        if not READ_ONLY.match(statement):
            self.latest = None

    def current(self) -> dict[str, int]:
        if self.latest is None:
            self.latest = fingerprint()
        return self.latest

    def close(self) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._watch)


def path_values(rule) -> st.SearchStrategy:
    """Values for each of the rule's variables: existing ids, odd numbers and text, choices and junk."""
    parts = {}
    for name, converter in rule._converters.items():  # noqa: SLF001 - the map has no public per-variable view
        kind = type(converter).__name__
        if kind == "IntegerConverter":
            parts[name] = st.one_of(st.integers(min_value=1, max_value=8).map(str), st.sampled_from(ODD_NUMBERS),
                                    st.integers(min_value=0, max_value=2**80).map(str), TEXTS)
        elif kind == "AnyConverter":
            parts[name] = st.one_of(st.sampled_from(sorted(converter.items)), TEXTS)
        else:
            parts[name] = st.one_of(st.sampled_from(["proposals.csv", "campaigns.json", "figures.json",
                                                     "data-dictionary.json", "clusters.csv", "x.csv", "css/app.css",
                                                     "..%2Fapp.py", "a" * 300]), TEXTS)
    return st.fixed_dictionaries(parts)


def url_for_rule(rule, values: dict) -> str:
    def fill(match):
        value = values[match.group(2)]
        return quote(value, safe="/" if match.group(1) == "path" else "") or "x"
    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", fill, rule.rule)


def requests_for(rule, method: str) -> st.SearchStrategy:
    query = st.dictionaries(st.sampled_from(QUERY_KEYS), VALUES, max_size=4)
    form = st.dictionaries(st.sampled_from(FORM_KEYS), st.one_of(VALUES, st.lists(VALUES, max_size=3)), max_size=8)
    body = st.one_of(st.tuples(st.just("none"), st.none()), st.tuples(st.just("form"), form),
                     st.tuples(st.just("json"), JSON_VALUES), st.tuples(st.just("raw"), st.sampled_from(RAW_BODIES)))
    return st.builds(lambda values, q, b, csrf, token: (url_for_rule(rule, values), q, b, csrf, token),
                     path_values(rule), query, body, st.booleans(), st.sampled_from(["none", "valid", "junk"]))


def send(client, secret: str | None, method: str, generated) -> tuple[Sent, object]:
    path, query, (kind, body), csrf, token = generated
    url = path + ("?" + urlencode(query, doseq=True) if query else "")
    headers = {}
    if token == "valid" and secret:
        headers["Authorization"] = f"Bearer {secret}"
    elif token == "junk":
        headers["Authorization"] = "Bearer jy_" + "0" * 40
    if csrf and kind != "form" and method != "GET":
        headers["X-CSRFToken"] = client.csrf_token()  # how a script sends the token with a JSON body
    kwargs = {"headers": headers}
    if kind == "form":
        data = [(k, v) for k, vs in body.items() for v in (vs if isinstance(vs, list) else [vs])]
        if csrf and method != "GET":
            data.append(("csrf_token", client.csrf_token()))
        kwargs["data"] = MultiDict(data)
    elif kind == "json":
        kwargs["data"], kwargs["content_type"] = json.dumps(body), "application/json"
    elif kind == "raw":
        kwargs["content_type"], kwargs["data"] = body
    sent = Sent(method, url, kind, body if kind != "raw" else (body[0], body[1][:80]), csrf, token)
    return sent, client.open(url, method=method, buffered=True, **kwargs)


HUGE = "99999999999999999999"


def edge_cases(rule, method: str) -> list[tuple]:
    """The inputs known to break a route, always sent: each id out of range, every query parameter and form
    field huge or long, and JSON bodies of the wrong shape or depth."""
    valid = {}
    for name, converter in rule._converters.items():  # noqa: SLF001
        kind = type(converter).__name__
        valid[name] = {"IntegerConverter": "1", "AnyConverter": sorted(getattr(converter, "items", ["x"]))[0],
                       "PathConverter": "css/app.css"}.get(kind, "proposals.csv")
    cases = []
    for name, converter in rule._converters.items():  # noqa: SLF001
        if type(converter).__name__ == "IntegerConverter":
            cases += [({**valid, name: value}, {}, ("none", None)) for value in (HUGE, "9223372036854775808", "0")]
    path = valid
    cases += [(path, {key: HUGE for key in QUERY_KEYS}, ("none", None)),
              (path, {key: "长" * 300 for key in QUERY_KEYS}, ("none", None))]
    if method != "GET":
        cases += [(path, {}, ("form", {key: HUGE for key in FORM_KEYS})),
                  (path, {}, ("form", {key: "" for key in FORM_KEYS})),
                  (path, {}, ("json", {key: 5 for key in FORM_KEYS})),
                  (path, {}, ("json", [1, 2, 3])), (path, {}, ("json", "text")),
                  (path, {}, ("raw", RAW_BODIES[0])), (path, {}, ("raw", RAW_BODIES[1])),
                  (path, {}, ("raw", RAW_BODIES[9]))]
    return [(url_for_rule(rule, values), query, body, True, "valid") for values, query, body in cases]


def routes(app) -> list[tuple[object, str]]:
    return [(rule, method) for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule)
            for method in METHODS if method in rule.methods]


def fuzz(client, secret: str | None, rule, method: str, role: str, fingerprints: Fingerprints) -> int:
    """Send the edge cases and ``EXAMPLES`` generated requests to one route as one role; returns how many."""
    sent_count, before = 0, fingerprints.current()

    @seed(zlib.crc32(f"{method} {rule.rule} {role}".encode()))
    @settings(max_examples=EXAMPLES, database=None, deadline=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(generated=requests_for(rule, method))
    def probe(generated):
        nonlocal sent_count, before
        sent_count += 1
        sent, response = send(client, secret, method, generated)
        after = fingerprints.current()
        assert response.status_code < 500, f"{response.status_code} as {role}: {sent}"
        if response.status_code >= 400:
            changed = sorted(name for name in after if after[name] != before[name])
            assert not changed, f"{response.status_code} as {role} changed {changed}: {sent}"
        before = after

    for case in edge_cases(rule, method):
        probe = example(generated=case)(probe)
    probe()
    return sent_count


def test_no_route_answers_5xx_or_writes_when_it_refuses(app, client, backend):  # noqa: ARG001 - CsrfClient, suite
    app.config["ANALYTICS_MAX_AGE_SECONDS"] = 10**9  # build the figures once, not on every page view
    users, secrets = build_world()
    staff_body_id = users["staff"].memberships[0].body_id
    client.get("/analytics/")
    failures: list[str] = []
    requests_sent = 0
    fingerprints = Fingerprints(db.engine)
    for rule, method in routes(app):
        for role in ROLES:
            browser = app.test_client()  # a fresh browser for each route and role
            if users[role] is not None:  # undo what an earlier route may have done to the account
                user = db.session.merge(users[role])
                user.active, user.role = True, {"admin": Role.ADMIN, "staff": Role.STAFF}.get(role, Role.CITIZEN)
                if role == "staff" and not user.memberships:  # an administrator's request may have removed it
                    user.memberships.append(Membership(body_id=staff_body_id, role="manager"))
                db.session.commit()
                login(browser, user)
            try:
                requests_sent += fuzz(browser, secrets.get(role), rule, method, role, fingerprints)
            except Exception as error:  # noqa: BLE001 - collect every route's failure, then report them all
                failures.append(f"{method} {rule.rule} as {role}: {str(error).splitlines()[0][:600]}")
            finally:
                db.session.rollback()
    fingerprints.close()
    print(f"route fuzzer: {len(routes(app))} routes and methods x {len(ROLES)} roles, {requests_sent} requests")
    assert not failures, f"{len(failures)} route/role pairs failed:\n" + "\n".join(failures)
