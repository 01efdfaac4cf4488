"""Evidence reports (later issue)."""
