"""The engine: watchers, runner, effects, secrets (no Qt)."""
