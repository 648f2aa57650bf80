"""Helpers of the journey tests in tests/gui/journeys, one module per group of journeys."""
