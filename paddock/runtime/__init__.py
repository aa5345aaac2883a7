"""The operating system: git, processes, log pipeline, event bus."""
