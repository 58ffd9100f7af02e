"""Proposals (suggestions), their supports and opposes, and official replies."""
