"""Opening the database: engine setup, migrations on open, one-line errors.

SQLite (default, `$CLAIMWATCH_HOME/claimwatch.db`) runs in WAL mode with foreign keys on;
PostgreSQL is selected with CLAIMWATCH_DATABASE_URL=postgresql+psycopg://... .
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.util.exc import CommandError
from sqlalchemy import Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from claimwatch.store.models import Base

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
REINDEX_HINT = "run `claimwatch reindex` to rebuild it from the archive"


class StoreError(Exception):
    """The database cannot be used; the message is one line and says what to do."""


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return lines[0] if lines else type(orig).__name__


def describe(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid database URL>"


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, None for other databases or in-memory SQLite."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def _alembic_config(connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    cfg.attributes["connection"] = connection
    return cfg


def make_engine(url: str) -> Engine:
    try:
        u = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"invalid database URL: {exc}") from None
    backend = u.get_backend_name()
    if backend == "sqlite":
        path = sqlite_path(url)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the database directory {path.parent}: {exc.strerror or exc}") from None
        engine = create_engine(u, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    if backend == "postgresql":
        args = {"connect_timeout": 10} if u.get_driver_name() in ("psycopg", "psycopg2") else {}
        try:
            return create_engine(u, connect_args=args, pool_pre_ping=True)
        except (ModuleNotFoundError, ImportError) as exc:
            raise StoreError(f"PostgreSQL driver missing ({exc}); pip install 'claimwatch[postgres]'") from None
    raise StoreError(f"unsupported database {describe(url)}: use sqlite:/// or postgresql+psycopg://")


def migrate(engine: Engine) -> None:
    """`alembic upgrade head` with the migrations shipped in the package."""
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "head")


class Store:
    """An open, migrated database."""

    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success, rolled back on error; DB errors become StoreError."""
        s = self._sessions()
        try:
            yield s
            s.commit()
        except SQLAlchemyError as exc:
            s.rollback()
            raise StoreError(f"database {describe(self.url)} failed ({_first_line(exc)}); {REINDEX_HINT}") from exc
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_store(url: str) -> Store:
    """Open (creating if needed) and migrate the database at `url`."""
    engine = make_engine(url)
    try:
        migrate(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        hint = REINDEX_HINT
        if engine.dialect.name != "sqlite" and isinstance(exc, OperationalError):
            hint = f"check CLAIMWATCH_DATABASE_URL and that the server is up; if its data is damaged, {REINDEX_HINT}"
        raise StoreError(f"cannot use database {describe(url)} ({_first_line(exc)}); {hint}") from None
    except CommandError as exc:
        # e.g. a revision this version does not know: the database was made by a newer claimwatch.
        engine.dispose()
        raise StoreError(
            f"cannot migrate database {describe(url)} ({_first_line(exc)}); upgrade claimwatch or {REINDEX_HINT}"
        ) from None
    return Store(url, engine)


def drop_everything(engine: Engine) -> None:
    """Drop claimwatch's tables and Alembic's version table (reindex on a server database)."""
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        if inspect(conn).has_table("alembic_version"):
            conn.execute(text("DROP TABLE alembic_version"))
