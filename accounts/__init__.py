"""Users, roles, bodies (organisations) and membership; registration and login."""
