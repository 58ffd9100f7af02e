"""Campaigns: themed collections opened by a body, with their categories and lifecycle."""
