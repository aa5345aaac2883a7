"""Paddock as tools for agents (Model Context Protocol): the user's server (server.py), served
at /mcp by the web app (http.py) and relayed to stdio by `paddock mcp` (relay.py)."""
