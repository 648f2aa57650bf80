"""SophMate Desktop: run operations automation safely."""

__version__ = "0.1.0"
