"""`make demo`: the whole loop on a bundled, fictional vendor site served on 127.0.0.1.

Captures four versions of three pages with the real `claimwatch` command, then shows the claims,
the timeline of events, one page's history, `verify`, and that `reindex` rebuilds the same index
from the archive alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from site_server import CLASSSENSE, NV9000, SDK, VERSIONS, DemoSite  # noqa: E402

MARKER = ".claimwatch-demo"


def fresh_home() -> Path:
    home = Path(os.environ.get("CLAIMWATCH_DEMO_HOME", "claimwatch-demo")).resolve()
    if home.exists():
        if not (home / MARKER).exists():
            sys.exit(f"demo: {home} exists and is not a demo folder; set CLAIMWATCH_DEMO_HOME elsewhere")
        shutil.rmtree(home)
    home.mkdir(parents=True)
    (home / MARKER).write_text("made by demo/run_demo.py; deleted on the next demo run\n")
    return home


def claimwatch(*args: str, env: dict[str, str], check: bool = True, quiet: bool = False) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "claimwatch", *args]
    proc = subprocess.run(cmd, env=env, text=True, capture_output=True)
    if not quiet:
        print(f"\n$ claimwatch {' '.join(args)}", flush=True)
        sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    if check and proc.returncode != 0:
        sys.exit(f"demo: `claimwatch {' '.join(args)}` exited {proc.returncode}")
    return proc


def banner(text: str) -> None:
    print(f"\n{'=' * 78}\n{text}\n{'=' * 78}", flush=True)


def main() -> int:
    home = fresh_home()
    env = {**os.environ, "CLAIMWATCH_HOME": str(home)}
    env.pop("CLAIMWATCH_DATABASE_URL", None)
    with DemoSite() as site:
        urls = [site.base + p for p in (NV9000, CLASSSENSE, SDK)]
        banner(f"A fictional vendor site is served at {site.base}; data goes to {home}")
        for i in range(len(VERSIONS)):
            title = site.set_version(i)
            banner(f"Version {i + 1}: {title}")
            claimwatch("capture", *urls, "--vendor", "Nimbus Vision (fictional)", env=env)

        banner("Claims found, with their lifecycle")
        claimwatch("claims", env=env)
        banner("Timeline of events (oldest first)")
        claimwatch("events", env=env)
        banner("Every capture of the product page")
        claimwatch("history", urls[0], env=env)

    banner("Evidence check: every WARC digest and the ledger chain")
    claimwatch("verify", env=env)

    banner("The database is only an index: delete it and rebuild it from the archive")
    before = claimwatch("events", "--format", "jsonl", env=env, quiet=True).stdout
    claims_before = claimwatch("claims", "--format", "jsonl", env=env, quiet=True).stdout
    (home / "claimwatch.db").unlink()
    for extra in ("claimwatch.db-wal", "claimwatch.db-shm"):
        (home / extra).unlink(missing_ok=True)
    claimwatch("reindex", env=env)
    after = claimwatch("events", "--format", "jsonl", env=env, quiet=True).stdout
    claims_after = claimwatch("claims", "--format", "jsonl", env=env, quiet=True).stdout
    if before != after or claims_before != claims_after:
        print("demo: reindex did NOT reproduce the same claims and events", file=sys.stderr)
        return 1
    n = len(after.splitlines())
    print(f"\nreindex reproduced all {n} events and {len(claims_after.splitlines())} claims identically.")
    print(f"\nThe archive, ledger and database are in {home}.")
    print("Captures are an observer's attestation of what the server returned at a time, not proof of authorship.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
