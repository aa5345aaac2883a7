"""The command line: `paddock serve`, `project`, `task`, `attempt`, `logs`, `doctor`."""
