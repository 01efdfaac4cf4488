"""Suite-wide settings only; area fixtures live in tests/support_*.py."""

from __future__ import annotations

import os

import pytest

# The PostgreSQL server fixtures (pg_server, db_url) for every test module that asks for them.
pytest_plugins = ["support_pg"]


@pytest.fixture(autouse=True, scope="session")
def _private_hyperscan_cache(tmp_path_factory):
    # The scanner caches compiled Hyperscan databases; tests must not write into the user's ~/.cache.
    if "CLAIMWATCH_CACHE_DIR" not in os.environ:
        os.environ["CLAIMWATCH_CACHE_DIR"] = str(tmp_path_factory.mktemp("hscache"))
    yield
