"""The OpenAPI 3.1 document of /api/v1, written out by hand next to the views it describes (which take their
limits from here).

tests/api/test_openapi.py checks that every route of the blueprint is documented (and nothing else), and
schemathesis (tests/api/test_schemathesis.py) checks every answer against these schemas.
"""
import copy

from accounts.models import BodyKind, BodyLevel
from campaigns.models import CampaignStatus, Phase
from outcomes.models import Stage
from suggestions.models import PUBLIC_STATUSES, Decision, MessageType, RatingReason, Satisfaction, Status

MAX_ID = 2**31 - 1  # the largest id a column holds: larger numbers are refused, never sent to the database
MAX_PAGE = 10000
MAX_PER_PAGE = 100
MIN_YEAR, MAX_YEAR = 1949, 2100

INTEGER = {"type": "integer"}
STRING = {"type": "string"}
BOOLEAN = {"type": "boolean"}
DATE_TIME = {"type": "string", "format": "date-time"}


def nullable(schema: dict) -> dict:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    return {**schema, "type": [schema["type"], "null"]}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict, required: list[str] | None = None, *, closed: bool = True) -> dict:
    schema = {"type": "object", "properties": properties,
              "required": list(properties) if required is None else required}
    if closed:
        schema["additionalProperties"] = False
    return schema


def enum(values) -> dict:
    return {"type": "string", "enum": [str(v) for v in values]}


def page_of(name: str) -> dict:
    return obj({"items": {"type": "array", "items": ref(name)},
                "page": {"type": "integer", "minimum": 1}, "per_page": {"type": "integer", "minimum": 1},
                "total": {"type": "integer", "minimum": 0}})


BODY_REF = {"id": INTEGER, "name": STRING, "name_en": STRING}
PROPOSAL_REF = {"id": INTEGER, "title": STRING, "status": enum(PUBLIC_STATUSES), "support_count": INTEGER}
CATEGORY = obj({"code": STRING, "name": STRING, "name_en": STRING})
PROPOSAL = {
    "id": INTEGER, "campaign_id": INTEGER, "category": ref("Category"), "message_type": enum(MessageType),
    "title": STRING, "body": STRING, "status": enum(PUBLIC_STATUSES),
    "support_count": {"type": "integer", "minimum": 0}, "oppose_count": {"type": "integer", "minimum": 0},
    "handling_body": nullable(ref("BodyRef")), "created_at": DATE_TIME, "published_at": nullable(DATE_TIME),
    "accepted_at": nullable(DATE_TIME), "replied_at": nullable(DATE_TIME), "closed_at": nullable(DATE_TIME),
    "reply_due_on": nullable({"type": "string", "format": "date"}),
    "url": {"type": "string", "description": "The proposal's page on this site."},
}
CLUSTER = {
    "id": INTEGER, "campaign_id": INTEGER, "size": INTEGER,
    "supporter_count": {"type": "integer", "minimum": 0,
                        "description": "Distinct citizens who support any member (each counted once)."},
    "keywords": {"type": "array", "items": STRING}, "confirmed": BOOLEAN, "representative": ref("ProposalRef"),
    "url": STRING,
}
OUTCOME = {
    "id": INTEGER, "title": STRING, "document_name": STRING, "document_number": STRING,
    "issuing_body": ref("BodyRef"), "issued_on": nullable({"type": "string", "format": "date"}), "link": STRING,
    "clause": STRING, "stage": enum(Stage), "progress": {"type": "integer", "minimum": 0, "maximum": 100},
    "created_at": DATE_TIME, "url": STRING,
}
# The figures come from analytics.metrics.headline: documented keys are required, further ones allowed.
SPREAD = obj({"n": {"type": "integer", "minimum": 0}, "mean": nullable({"type": "number"}),
              "median": nullable({"type": "number"}), "p90": nullable({"type": "number"})}, closed=False)
RATIO = obj({"part": {"type": "integer", "minimum": 0}, "whole": {"type": "integer", "minimum": 0},
             "value": nullable({"type": "number", "minimum": 0, "maximum": 1})}, closed=False)

SCHEMAS = {
    "Error": obj({"error": {"type": "string", "description": "What went wrong, in the language asked for."},
                  "status": INTEGER,
                  "retry_after": {"type": "integer", "minimum": 1,
                                  "description": "429 only: seconds to wait, as in the Retry-After header."}},
                 required=["error", "status"]),
    "BodyRef": obj(BODY_REF),
    "Body": obj({**BODY_REF, "kind": enum(BodyKind), "level": enum(BodyLevel), "region": STRING,
                 "parent_id": nullable(INTEGER)}),
    "Category": CATEGORY,
    "Campaign": obj({
        "id": INTEGER, "title": STRING, "theme": STRING, "description": STRING, "region_scope": STRING,
        "body": ref("BodyRef"), "status": enum(s for s in CampaignStatus if s != CampaignStatus.DRAFT),
        "phase": enum(p for p in Phase if p != Phase.DRAFT), "opens_at": DATE_TIME, "closes_at": nullable(DATE_TIME),
        "allow_oppose": BOOLEAN, "screening": BOOLEAN, "reply_working_days": INTEGER,
        "support_threshold": nullable(INTEGER), "categories": {"type": "array", "items": ref("Category")},
        "url": STRING}),
    "ProposalRef": obj(PROPOSAL_REF),
    "Proposal": obj(PROPOSAL),
    "Reply": obj({
        "id": INTEGER, "body": ref("BodyRef"), "decision": enum(Decision), "content": STRING,
        "created_at": DATE_TIME,
        "rating": nullable(ref("Rating"))}),
    "Rating": obj({"satisfaction": enum(Satisfaction), "reasons": {"type": "array", "items": enum(RatingReason)},
                   "comment": STRING}),
    # What submitting answers: the proposal as stored, pending when its campaign screens proposals first.
    "SubmittedProposal": obj({**PROPOSAL, "status": enum((Status.PENDING, *PUBLIC_STATUSES))}),
    "ProposalDetail": obj({**PROPOSAL, "replies": {"type": "array", "items": ref("Reply")},
                           "cluster_id": nullable(INTEGER),
                           "outcome_ids": {"type": "array", "items": INTEGER}}),
    "Cluster": obj(CLUSTER),
    "ClusterDetail": obj({**CLUSTER, "members": {"type": "array", "items": obj({
        **PROPOSAL_REF, "kind": STRING, "score": {"type": "number"}})}}),
    "Milestone": obj({"happened_on": {"type": "string", "format": "date"}, "title": STRING, "note": STRING}),
    "Outcome": obj(OUTCOME),
    "OutcomeDetail": obj({**OUTCOME, "milestones": {"type": "array", "items": ref("Milestone")},
                          "proposals": {"type": "array", "items": ref("ProposalRef")},
                          "cluster_ids": {"type": "array", "items": INTEGER}}),
    "NewProposal": obj({
        "campaign_id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        "title": {"type": "string", "minLength": 4, "maxLength": 80,
                  "description": "4 to 80 characters once trimmed; no control characters."},
        "body": {"type": "string", "minLength": 10, "maxLength": 5000,
                 "description": "10 to 5000 characters once trimmed; no control characters."},
        "category": {"type": "string", "minLength": 1, "maxLength": 32,
                     "description": "The code of one of the campaign's categories."},
        "message_type": {**enum(MessageType), "default": "suggestion"},
        "contact": {**obj({
            "name": {"type": "string", "maxLength": 50},
            "phone": {"type": "string", "maxLength": 40,
                      "description": "A mainland mobile number, or a landline with its area code."},
            "address": {"type": "string", "maxLength": 200},
            "note": {"type": "string", "maxLength": 2000,
                     "description": "Anything else the handling body needs, such as an ID number."}}, required=[]),
            "description": "Private contact details: only the author and the staff of the bodies handling the "
                           "proposal see them (on the site); no API answer ever contains them."},
        "move_personal_data": {"type": "boolean", "default": False,
                               "description": "Move the personal data written in the title and body (phone, ID "
                                              "and card numbers, addresses, names…) into the private contact "
                                              "details, leaving the text masked."},
        "draft_article": {**INTEGER, "description": "On a campaign consulting on a draft: the id of the article of "
                                                    "its current version this comment is on (without it, the "
                                                    "comment is on the whole draft)."},
        "draft_quote": {"type": "string", "maxLength": 500,
                        "description": "The passage of that article the comment is on, copied from its text."}},
        required=["campaign_id", "title", "body", "category"], closed=False),
    "VoteResult": obj({"proposal_id": INTEGER, "support_count": {"type": "integer", "minimum": 0},
                       "oppose_count": {"type": "integer", "minimum": 0}, "my_vote": {"type": "integer",
                                                                                       "enum": [-1, 0, 1]}}),
    "Spread": SPREAD,
    "Ratio": RATIO,
    "Metrics": obj({
        "scope": obj({"body_id": nullable(INTEGER), "level": nullable(STRING), "region": nullable(STRING),
                      "edition": nullable(STRING), "campaign_id": nullable(INTEGER), "year": nullable(INTEGER)}),
        "messages": {"type": "integer", "minimum": 0, "description": "Messages of every type."},
        "suggestions": {"type": "integer", "minimum": 0, "description": "Messages of the type suggestion (建议)."},
        "suggestion_share": nullable({"type": "number"}),
        "handling_days": ref("Spread"), "handling_working_days": ref("Spread"),
        "reply_rate": ref("Ratio"), "satisfaction": ref("Ratio"), "adoption": ref("Ratio"),
        "overdue": {"type": "integer", "minimum": 0}, "participants": nullable({"type": "integer", "minimum": 0}),
        "as_of": nullable({**DATE_TIME, "description": "When the figures were last computed."})},
        required=["scope", "messages", "suggestions", "suggestion_share", "handling_days", "handling_working_days",
                  "reply_rate", "satisfaction", "adoption", "overdue", "participants", "as_of"], closed=False),
}
for page in ("Body", "Campaign", "Proposal", "Cluster", "Outcome"):
    SCHEMAS[f"{page}Page"] = page_of(page)


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ref("Error")}}}


def _ok(schema: str, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": ref(schema)}}}


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _path_id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "example": 1,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}


ID_FILTER = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
PAGING = [_query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}, "Page number."),
          _query("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 20},
                 "Items per page.")]
BAD_PARAMETER = _error("A query parameter is not valid.")
BUSY = _error("The database is busy: try again after Retry-After seconds.")
WRITE_ERRORS = {
    "400": _error("The body is not a JSON object."),
    "401": _error("No valid API token (Authorization: Bearer <token>)."),
    "403": _error("The campaign asks for a verified mobile number, and the token's account has none (verify one "
                  "in the account settings on the site)."),
    "404": _error("No public proposal has that number."),
    "409": _error("Refused in the current state (campaign closed, own proposal, opposing not allowed, a vote held "
                  "for review cannot be withdrawn…)."),
    "422": _error("A field is missing, of the wrong type or not acceptable."),
    "429": {**_error("Too many writes from this account (API_WRITE_RATE_LIMIT, and the limits on proposals and votes "
                     "it shares with the site's pages); the message says how long to wait."),
            "headers": {"Retry-After": {"description": "Seconds until the limit lets this account write again.",
                                        "schema": {"type": "integer", "minimum": 1}}}},
    "503": BUSY,
}
READ_LIST_ERRORS = {"400": BAD_PARAMETER, "503": BUSY}
EDITION_FILTER = {"type": "string", "minLength": 1, "maxLength": 12, "example": "990100"}
READ_ONE_ERRORS = {"404": _error("Not found (or not public)."), "503": BUSY}
TOKEN = [{"bearerAuth": []}]


def _read_list(summary: str, schema: str, filters: list[dict], tag: str, not_found: str = "") -> dict:
    errors = {**READ_LIST_ERRORS, **({"404": _error(not_found)} if not_found else {})}
    return {"get": {"summary": summary, "tags": [tag], "operationId": f"list{schema}",
                    "parameters": filters + PAGING, "responses": {"200": _ok(schema), **errors}}}


def _read_one(summary: str, schema: str, id_name: str, tag: str, operation_id: str) -> dict:
    return {"get": {"summary": summary, "tags": [tag], "operationId": operation_id,
                    "parameters": [_path_id(id_name)], "responses": {"200": _ok(schema), **READ_ONE_ERRORS}}}


def _vote_operation(summary: str, operation_id: str) -> dict:
    return {"summary": summary, "tags": ["proposals"], "operationId": operation_id, "security": TOKEN,
            "parameters": [_path_id("suggestion_id")], "responses": {"200": _ok("VoteResult"), **{
                k: v for k, v in WRITE_ERRORS.items() if k != "422"}}}


PATHS = {
    "/api/v1/openapi.json": {"get": {"summary": "This document", "tags": ["meta"], "operationId": "openapi",
                                     "responses": {"200": {"description": "The OpenAPI document",
                                                           "content": {"application/json": {
                                                               "schema": {"type": "object"}}}}}}},
    "/api/v1/bodies": _read_list("Bodies (congresses, CPPCC committees, departments), by id", "BodyPage", [
        _query("level", enum(BodyLevel), "Only bodies of this level."),
        _query("kind", enum(BodyKind), "Only bodies of this kind.")], "bodies"),
    "/api/v1/bodies/{body_id}": _read_one("One body", "Body", "body_id", "bodies", "getBody"),
    "/api/v1/campaigns": _read_list("Public campaigns, newest first", "CampaignPage", [
        _query("phase", enum(p for p in Phase if p != Phase.DRAFT),
               "Only campaigns in this phase (open includes closing soon)."),
        _query("body_id", ID_FILTER, "Only campaigns of this body."),
        _query("edition", EDITION_FILTER, "Only the campaigns of this local edition (its division code): its "
               "bodies' and those about its region.")], "campaigns", not_found="No such local edition."),
    "/api/v1/campaigns/{campaign_id}": _read_one("One public campaign", "Campaign", "campaign_id", "campaigns",
                                                 "getCampaign"),
    "/api/v1/campaigns/{campaign_id}/clusters": {"get": {
        "summary": "A campaign's clusters of near-duplicate proposals (two or more), by combined support",
        "tags": ["clusters"], "operationId": "listClusters", "parameters": [_path_id("campaign_id")] + PAGING,
        "responses": {"200": _ok("ClusterPage"), "404": _error("No public campaign has that number."),
                      **READ_LIST_ERRORS}}},
    "/api/v1/clusters/{cluster_id}": _read_one("One cluster with its public members", "ClusterDetail", "cluster_id",
                                               "clusters", "getCluster"),
    "/api/v1/proposals": {
        **_read_list("Public proposals (published, accepted, replied, closed)", "ProposalPage", [
            _query("campaign_id", ID_FILTER, "Only proposals to this campaign."),
            _query("status", enum(PUBLIC_STATUSES), "Only proposals with this status."),
            _query("category", {"type": "string", "minLength": 1, "maxLength": 32},
                   "Only proposals in the category with this code."),
            _query("sort", {**enum(("newest", "supported")), "default": "newest"},
                   "Newest first (default) or most supported first."),
            _query("edition", EDITION_FILTER, "Only proposals to the campaigns of this local edition (its "
                   "division code).")], "proposals", not_found="No such local edition."),
        "post": {"summary": "Submit a proposal to an open campaign as the token's user", "tags": ["proposals"],
                 "operationId": "submitProposal", "security": TOKEN,
                 "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False, "schema": STRING,
                                 "description": "A key of 8 to 64 letters, digits, - or _ made for this submission "
                                                "(other values are ignored). Sent again with the same key, the call "
                                                "answers 200 with the proposal the first call saved, never a copy."}],
                 "requestBody": {"required": True, "content": {"application/json": {"schema": ref("NewProposal")}}},
                 "responses": {"201": {**_ok("SubmittedProposal", "Submitted (published, or pending screening)"),
                                       "headers": {"Location": {"schema": STRING}}},
                               "200": {**_ok("SubmittedProposal", "Already submitted with this Idempotency-Key: "
                                                                  "the proposal saved then"),
                                       "headers": {"Location": {"schema": STRING}}},
                               **{k: v for k, v in WRITE_ERRORS.items() if k != "404"},
                               "413": _error("The body is too large.")}},
    },
    "/api/v1/proposals/{suggestion_id}": _read_one("One public proposal with its official replies",
                                                   "ProposalDetail", "suggestion_id", "proposals", "getProposal"),
    "/api/v1/proposals/{suggestion_id}/support": {"post": _vote_operation("Support a proposal (+1)", "support")},
    "/api/v1/proposals/{suggestion_id}/oppose": {"post": _vote_operation(
        "Oppose a proposal (-1), where its campaign allows it", "oppose")},
    "/api/v1/proposals/{suggestion_id}/vote": {"delete": _vote_operation(
        "Withdraw the token user's support or opposition", "withdrawVote")},
    "/api/v1/outcomes": _read_list("Policy outcomes, newest first", "OutcomePage", [
        _query("body_id", ID_FILTER, "Only outcomes issued by this body."),
        _query("campaign_id", ID_FILTER, "Only outcomes fed by this campaign's proposals.")], "outcomes"),
    "/api/v1/outcomes/{outcome_id}": _read_one("One policy outcome with its milestones and proposals",
                                               "OutcomeDetail", "outcome_id", "outcomes", "getOutcome"),
    "/api/v1/metrics": {"get": {
        "summary": "Headline figures for a scope (definitions in docs/metrics.md)", "tags": ["metrics"],
        "operationId": "metrics", "parameters": [
            _query("body_id", ID_FILTER, "Only this body."),
            _query("level", enum(BodyLevel), "Only bodies of this level."),
            _query("region", {"type": "string", "minLength": 1, "maxLength": 80}, "Only this region (prefix)."),
            _query("edition", EDITION_FILTER, "Only the bodies of this local edition (its division code)."),
            _query("campaign_id", ID_FILTER, "Only this campaign."),
            _query("year", {"type": "integer", "minimum": MIN_YEAR, "maximum": MAX_YEAR}, "Only this year.")],
        "responses": {"200": _ok("Metrics"), "404": _error("No such body, public campaign or edition."),
                      **READ_LIST_ERRORS}}},
}


def openapi_document() -> dict:
    """The whole document (a fresh copy each time)."""
    return copy.deepcopy({
        "openapi": "3.1.0",
        "info": {"title": "Jianyan API", "version": "1.0.0",
                 "description": "Public proposals, campaigns, replies, clusters, outcomes and figures; submit "
                                "and support proposals with a personal API token. Errors are JSON objects "
                                "{error, status}; send Accept-Language: zh or en for their language. Free text "
                                "has phone numbers, ID numbers and e-mail addresses masked; no author identity "
                                "is given."},
        "paths": PATHS,
        "components": {"schemas": SCHEMAS,
                       "securitySchemes": {"bearerAuth": {
                           "type": "http", "scheme": "bearer",
                           "description": "A personal API token, created on /api/tokens/ when logged in."}}},
    })
