"""One module per agent CLI: how to run it and how to read what it prints."""
