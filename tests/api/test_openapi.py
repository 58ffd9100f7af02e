"""The OpenAPI document describes exactly the routes of the API blueprint, and is a valid OpenAPI 3.1 document."""
import re

import schemathesis


def documented_routes(document: dict) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item}


def blueprint_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
            routes |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def test_every_route_is_documented_and_nothing_else(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert documented_routes(document) == blueprint_routes(app)


def test_the_document_is_valid_openapi(app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    schema.validate()  # raises on an invalid document
    operations = {(op.method.upper(), op.path) for op in (result.ok() for result in schema.get_all_operations())}
    assert operations == documented_routes(schema.raw_schema) - {("GET", "/api/v1/openapi.json")}


def test_write_operations_require_the_bearer_token(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert ("security" in operation) == (method != "get"), (method, path)
            if method != "get":
                assert "401" in operation["responses"] and "429" in operation["responses"]
