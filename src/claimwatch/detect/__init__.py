"""Text -> findings.  `detect(text)` is pure (no I/O) and safe to call inside Spark executors."""

from claimwatch.detect.engine import detect
from claimwatch.detect.finding import Finding


def warm_up(prefilter: bool = True) -> None:
    """Build the compiled lexicon now (and the raw-bytes prefilter), instead of on first use."""
    from claimwatch.detect import matcher

    matcher.matcher()
    if prefilter:
        from claimwatch.detect import prefilter as raw

        raw.may_contain_claim(b" ")


__all__ = ["detect", "Finding", "warm_up"]
