"""Sandboxes: how a process is isolated (bwrap, containers), limited (cgroups), filtered
(seccomp) and networked (private networks, bridges into them)."""
