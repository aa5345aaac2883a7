// Renders app.json (the app's name, tagline, users, features and "What's new") on the page.
// The file is fetched on every load, so a change to it shows on the next refresh.

function setText(id, text) {
  const element = document.getElementById(id);
  if (element) element.textContent = text || "";
}

function featureItem(feature) {
  const item = document.createElement("li");
  const name = document.createElement("strong");
  name.textContent = feature.name;
  const description = document.createElement("span");
  description.textContent = feature.description || "";
  item.append(name, description);
  return item;
}

function changeItem(change) {
  const item = document.createElement("li");
  item.textContent = change;
  return item;
}

function render(app) {
  document.title = app.name;
  setText("app-name", app.name);
  setText("tagline", app.tagline);
  setText("users", app.users);
  document.getElementById("features").replaceChildren(...(app.features || []).map(featureItem));
  const changes = app.changes || [];
  document.getElementById("changes").replaceChildren(...changes.map(changeItem));
  document.getElementById("changes-section").hidden = changes.length === 0;
}

fetch("app.json", { cache: "no-store" })
  .then((response) => {
    if (!response.ok) throw new Error(`app.json: HTTP ${response.status}`);
    return response.json();
  })
  .then(render)
  .catch((error) => setText("tagline", `Could not load the app's content (${error.message}).`));
