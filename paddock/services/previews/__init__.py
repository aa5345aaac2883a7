"""Previews: a dev server per attempt at its own host behind the proxy — what runs (plans),
running it (runs), who may see it (access), its database, and the gate a private network
reaches it through."""
