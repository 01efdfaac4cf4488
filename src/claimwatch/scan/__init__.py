"""Bulk reading of WARC/ARC/WET files: local worker processes and the Spark job share `scan_file`."""

from __future__ import annotations


def file_findings(path: str) -> tuple[list[dict], list[str]]:
    """Findings (detect-JSONL dicts, record order) and error lines (`PATH: offset N: msg`) of one archive.

    Used by `claimwatch detect` for .warc/.arc/.wet inputs; never raises for a damaged file.
    """
    from claimwatch.scan.worker import scan_file

    res = scan_file(path)
    return res.findings, res.errors


__all__ = ["file_findings"]
