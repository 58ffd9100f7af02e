"""Shared infrastructure: extensions, configuration, base model, errors, text and audit helpers."""
