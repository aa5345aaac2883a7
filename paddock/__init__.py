"""Paddock: a local-first workbench where coding agents work a kanban board."""

__version__ = "0.1.0"
