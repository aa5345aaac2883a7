"""Checking an attempt's work: test runs and their reports, artifacts, API specs, bounded report
parsing."""
