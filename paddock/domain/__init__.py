"""Pure rules: entities, states, names, policies. Imports nothing of ours, does no I/O."""
