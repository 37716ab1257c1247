"""The store: one API over SQLite (default) and, later, PostgreSQL."""
