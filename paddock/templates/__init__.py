"""The app templates the builder scaffolds: each folder here is pure data, copied into a new
app's git repository by a build (see paddock/domain/builder/templates.py for the manifest
`template.toml` and the content file `app.json` every template renders, and
paddock/services/builder/templates.py for how they are found and read). Nothing here is
imported as Python: the templates' own Python files run inside the app they scaffold.
"""
