"""Use cases. The only layer that combines the store, the runtime and the agents."""
