"""Git for an attempt: its diff (and watching it), merging, rebasing, pushing to remotes, pull
requests."""
