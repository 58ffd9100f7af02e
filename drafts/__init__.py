"""Consultation on a draft (issue 18): a draft read into its articles, versions, comments anchored to articles."""
