"""Writers for scan findings: JSONL or Parquet file, or stdout (text or JSONL)."""

from __future__ import annotations

import json
import sys
from typing import IO

FIELDS = ("document", "record_id", "category", "rule", "match", "start", "end", "excerpt", "gloss", "score")
OUT_SUFFIXES = (".jsonl", ".parquet")


def parquet_schema():
    import pyarrow as pa

    return pa.schema(
        [
            ("document", pa.string()),
            ("record_id", pa.string()),
            ("category", pa.string()),
            ("rule", pa.string()),
            ("match", pa.string()),
            ("start", pa.int64()),
            ("end", pa.int64()),
            ("excerpt", pa.string()),
            ("gloss", pa.string()),
            ("score", pa.float64()),
        ]
    )


class FindingsWriter:
    """`write(findings)` per file result, `close()` at the end; `count` findings written."""

    def __init__(self, out: str | None, fmt: str = "jsonl"):
        self.count = 0
        self._out = out
        self._fmt = fmt
        self._fh: IO[str] | None = None
        self._pq = None
        if out is None:
            self._fh = sys.stdout
        elif out.endswith(".parquet"):
            import pyarrow.parquet as pq

            self._pq = pq.ParquetWriter(out, parquet_schema())
        else:
            self._fh = open(out, "w", encoding="utf-8")

    def write(self, findings: list[dict]) -> None:
        if not findings:
            return
        self.count += len(findings)
        if self._pq is not None:
            import pyarrow as pa

            self._pq.write_table(pa.Table.from_pylist(findings, schema=parquet_schema()))
            return
        assert self._fh is not None
        if self._out is None and self._fmt == "text":
            for f in findings:
                excerpt = " ".join(f["excerpt"].split())
                self._fh.write(f"{f['document']}\t{f['category']}\t{f['rule']}\t{f['match']}\t{f['score']:.2f}\t{excerpt}\n")
        else:
            self._fh.write("".join(json.dumps(f, ensure_ascii=False) + "\n" for f in findings))

    def close(self) -> None:
        if self._pq is not None:
            self._pq.close()
            self._pq = None
        if self._fh is not None and self._fh is not sys.stdout:
            self._fh.close()
        elif self._fh is sys.stdout:
            sys.stdout.flush()
        self._fh = None

