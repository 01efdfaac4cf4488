"""The categories, terms and context cues as data (YAML files in this package)."""

from claimwatch.lexicon.load import (
    CATEGORY_IDS,
    CUE_GROUPS,
    Category,
    Lexicon,
    LexiconError,
    Term,
    load_lexicon,
)

__all__ = ["CATEGORY_IDS", "CUE_GROUPS", "Category", "Lexicon", "LexiconError", "Term", "load_lexicon"]
