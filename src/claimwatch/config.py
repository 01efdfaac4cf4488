"""Settings from the environment. Read at call time so tests can switch homes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str

    @property
    def archive_dir(self) -> Path:
        return self.home / "archive"

    @property
    def ledger_dir(self) -> Path:
        return self.home / "ledger"


def settings() -> Settings:
    home = Path(os.environ.get("CLAIMWATCH_HOME") or "./claimwatch-data").resolve()
    url = os.environ.get("CLAIMWATCH_DATABASE_URL") or f"sqlite:///{home / 'claimwatch.db'}"
    return Settings(home=home, database_url=url)
