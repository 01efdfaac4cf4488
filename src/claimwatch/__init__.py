"""claimwatch: find, preserve and track claims about prohibited analytics in vendor documents."""

__version__ = "0.1.0"
