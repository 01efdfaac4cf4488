"""Text -> findings.  `detect(text)` is pure (no I/O) and safe to call inside Spark executors."""

from claimwatch.detect.engine import detect
from claimwatch.detect.finding import Finding

__all__ = ["detect", "Finding"]
