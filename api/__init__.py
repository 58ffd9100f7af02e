"""JSON API v1 (/api/v1) with its OpenAPI document, and the pages where people manage their API tokens."""
