"""The builder face's rules: an app made from an idea, its brief, the plan options (templates),
builds through named stages, versions, and the app's timeline. Pure: no I/O.

One module per concept: apps.py (the app and its stage), brief.py (questions, answers, the
brief and how the offline planner assembles one), templates.py (a template's manifest and the
plan options made from it), builds.py (a build's stages, their words and the retry rule),
versions.py (v0.1, v0.2 ... as git tags), timeline.py (what the app's timeline records).
"""
