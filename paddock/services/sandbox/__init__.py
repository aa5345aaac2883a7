"""Sandboxes as a service: the providers wired for this machine, their limits, resource samples and
usage."""
