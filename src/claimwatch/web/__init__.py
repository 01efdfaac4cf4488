"""Web UI and API (later issue)."""
