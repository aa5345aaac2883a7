import { describe, expect, it } from "vitest";
import app from "../app.json";
import { changesToRender, featuresToRender, pageTitle } from "./content.js";

describe("featuresToRender", () => {
  it("lists every named feature with its description", () => {
    const features = featuresToRender({
      features: [
        { name: " Sign up ", description: "Pick a date" },
        { name: "Leaderboard" },
      ],
    });
    expect(features.map((f) => [f.name, f.description])).toEqual([
      ["Sign up", "Pick a date"],
      ["Leaderboard", ""],
    ]);
    expect(new Set(features.map((f) => f.key)).size).toBe(2);
  });

  it("drops features without a name", () => {
    expect(featuresToRender({ features: [{ name: "  " }, null] })).toEqual([]);
  });

  it("renders the shipped app.json", () => {
    expect(featuresToRender(app).length).toBeGreaterThan(0);
  });
});

describe("changesToRender", () => {
  it("keeps the non-empty lines, in order", () => {
    expect(changesToRender({ changes: ["Dark mode", " ", "Export"] })).toEqual([
      "Dark mode",
      "Export",
    ]);
    expect(changesToRender({})).toEqual([]);
  });
});

describe("pageTitle", () => {
  it("is the app's name, or a placeholder", () => {
    expect(pageTitle({ name: "Run club" })).toBe("Run club");
    expect(pageTitle({})).toBe("My app");
  });
});
