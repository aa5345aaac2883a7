"""The builder face's rules: an app made from an idea, its brief, the plan options (templates),
builds through named stages, versions, the app's timeline, and what comes after a version.
Pure: no I/O.

One module per concept: apps.py (the app, its stage, parked), brief.py (questions, answers, the
brief and how the offline planner assembles one), templates.py (a template's manifest and the
plan options made from it), builds.py (a build's stages, their words and the retry rule),
versions.py (v0.1, v0.2 ... as git tags), timeline.py (what the app's timeline records),
prompts.py (what a build asks its agent), gates.py (iterate, ship or park after a preview),
changes.py (change requests, iterations and tiers), alignment.py and wording.py (the changes
against the brief), deploy*.py (a version's deploy readiness and deploy paths), chat*.py (the
floating chat: its grammar, the app's snapshot, answers and proposed actions).
"""
