"""Turn command-line inputs (files, directories, @manifests) into the ordered list of files to scan."""

from __future__ import annotations

import os

ARCHIVE_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz", ".wet", ".wet.gz")


class UsageError(ValueError):
    """A command-line input that does not exist or cannot be used (exit code 2)."""


def is_archive_name(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_SUFFIXES)


def _walk(directory: str) -> list[str]:
    found = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for name in files:
            if is_archive_name(name):
                found.append(os.path.join(root, name))
    return sorted(found)


def read_manifest(path: str) -> list[str]:
    """Paths listed one per line (cc-pyspark style); blank lines and `#` comments skipped.

    Relative entries are taken relative to the manifest's directory. Entries are NOT checked
    here: a missing listed file is a per-file read error, not a usage error (docs/scan.md).
    """
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except FileNotFoundError:
        raise UsageError(f"no such manifest: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read manifest {path}: {exc}") from None
    base = os.path.dirname(path)
    out = []
    for line in lines:
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        if entry.startswith("file://"):
            entry = entry[len("file://"):]
        out.append(entry if os.path.isabs(entry) else os.path.join(base, entry))
    return out


def expand_inputs(args: list[str]) -> list[str]:
    """Files in command-line order; directories expand recursively (sorted), `@FILE` reads a manifest.

    Raises UsageError for a command-line path that does not exist. A file named explicitly is
    scanned whatever its suffix (it is then rejected by content if it is not WARC/ARC).
    """
    paths: list[str] = []
    for arg in args:
        if arg.startswith("@"):
            paths.extend(read_manifest(arg[1:]))
        elif os.path.isdir(arg):
            paths.extend(_walk(arg))
        elif os.path.exists(arg):
            paths.append(arg)
        else:
            raise UsageError(f"no such file or directory: {arg}")
    return paths
