"""The CRM store: SQLAlchemy models, repositories and migrations (SQLite or PostgreSQL)."""
