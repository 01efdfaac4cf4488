"""Where the shared material lies: `../shared` beside the repository (as on CI), not a fixed path."""

from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"
CORPORA = SHARED / "corpora"  # real WARC/ARC files written by other tools, some deliberately broken
