"""Full-text search in Chinese (Whoosh by default, PostgreSQL for several app servers).

Not built yet: this package is reserved by the project layout and is the subject of the search issue.
"""
