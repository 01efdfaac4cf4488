"""The database: an index over the archive (SQLAlchemy 2 models, queries, Alembic migrations)."""

from claimwatch.store.db import Store, StoreError, open_store

__all__ = ["Store", "StoreError", "open_store"]
