import { useEffect } from "react";
import app from "../app.json";
import { changesToRender, featuresToRender, pageTitle } from "./content.js";

export default function App() {
  const features = featuresToRender(app);
  const changes = changesToRender(app);

  useEffect(() => {
    document.title = pageTitle(app);
  }, []);

  return (
    <main>
      <header>
        <h1 id="app-name">{pageTitle(app)}</h1>
        <p id="tagline" className="tagline">{app.tagline}</p>
        <p className="users">
          For: <span id="users">{app.users}</span>
        </p>
      </header>
      <section>
        <h2>What it does</h2>
        <ul id="features" className="features">
          {features.map((feature) => (
            <li key={feature.key}>
              <strong>{feature.name}</strong>
              <span>{feature.description}</span>
            </li>
          ))}
        </ul>
      </section>
      <section hidden={changes.length === 0}>
        <h2>What's new</h2>
        <ul id="changes" className="changes">
          {changes.map((change, index) => (
            <li key={index}>{change}</li>
          ))}
        </ul>
      </section>
    </main>
  );
}
