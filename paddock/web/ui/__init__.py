"""The HTML UI: server-rendered pages (Jinja2), made live with htmx and its SSE extension."""
