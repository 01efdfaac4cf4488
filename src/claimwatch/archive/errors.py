"""Errors of the archive layer: always one line, naming the file or step concerned."""

from __future__ import annotations

import errno


class ArchiveError(Exception):
    """Writing or reading the archive failed (read-only or full disk, missing file, corrupt ledger)."""


def os_error(action: str, exc: OSError) -> ArchiveError:
    """Turn an OSError into a one-line ArchiveError that says what to do about it."""
    where = exc.filename or ""
    reason = exc.strerror or str(exc)
    hint = {
        errno.ENOSPC: " (disk full: free space and retry)",
        errno.EDQUOT: " (disk quota exceeded)",
        errno.EROFS: " (read-only file system: set CLAIMWATCH_HOME to a writable directory)",
        errno.EACCES: " (permission denied: set CLAIMWATCH_HOME to a writable directory)",
        errno.EPERM: " (operation not permitted: set CLAIMWATCH_HOME to a writable directory)",
        errno.ENOTDIR: " (a file stands where a directory is expected)",
    }.get(exc.errno or 0, "")
    text = f"cannot {action}: {reason}{hint}" + (f": {where}" if where else "")
    return ArchiveError(" ".join(text.split()))
