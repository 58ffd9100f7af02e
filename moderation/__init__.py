"""Moderation: reports, the sensitive-word list, the moderation queue and the audit-log viewer."""
