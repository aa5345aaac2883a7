"""HTTP: the JSON API, server-sent event streams, API docs."""
