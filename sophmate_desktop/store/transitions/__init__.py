"""State changes of runs, writes and workflows: every one through `gate`."""
