"""Processes of an attempt: running one (the request, supervision), its logs and following them,
agent entries."""
