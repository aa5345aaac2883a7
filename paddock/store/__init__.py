"""Persistence: SQLAlchemy tables, repositories mapping rows to domain entities, migrations."""
