// Turns app.json (the app's name, tagline, users, features and "What's new") into what the
// home page renders. Pure functions, so the unit tests need no browser.

export function featuresToRender(app) {
  return (app.features || [])
    .filter((feature) => feature && String(feature.name || "").trim())
    .map((feature, index) => ({
      key: `${index}-${feature.name}`,
      name: String(feature.name).trim(),
      description: String(feature.description || "").trim(),
    }));
}

export function changesToRender(app) {
  return (app.changes || []).map((change) => String(change).trim()).filter(Boolean);
}

export function pageTitle(app) {
  return String(app.name || "").trim() || "My app";
}
