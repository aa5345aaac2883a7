"""The builder face's use cases: apps, builds, versions, the timeline."""
