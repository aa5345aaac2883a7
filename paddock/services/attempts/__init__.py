"""Attempts: starting, running (setup, agent turns, follow-ups), their worktrees, stopping and
deleting."""
