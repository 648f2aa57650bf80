"""Test helpers shared by several test packages (no fixtures: conftest files own those).
Tests import shared helpers from here only, never from a conftest or another test
module (tests/test_layout.py checks)."""
