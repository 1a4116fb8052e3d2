"""INSERT ... ON CONFLICT for the database in use: SQLAlchemy has it only on the dialects' own insert
constructs (PostgreSQL's and SQLite's, the same on_conflict_do_nothing / on_conflict_do_update)."""
from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def insert_for(bind, table):
    """The dialect's insert(table). bind: a Session (its bind is asked), an Engine or a Connection.
    Any database but PostgreSQL gets SQLite's, as every caller did before this helper."""
    dialect = bind.dialect if hasattr(bind, "dialect") else bind.get_bind().dialect
    return _INSERTS.get(dialect.name, sqlite.insert)(table)
