"""Adoption to outcomes: the policy a proposal became (document, clause, stage, progress, milestones)."""
