"""Test helpers shared by several test packages (no fixtures: conftest files own those)."""
