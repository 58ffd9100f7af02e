"""Local editions (地方版): one platform, a portal per region (issue 16)."""
