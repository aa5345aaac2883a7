// The workspace's Diff tab: the unified/split toggle. The choice is the panel's `data-view`
// (outside the part the live stream re-renders, so a refresh keeps it); CSS shows one table.
// A push that went through says so in a toast (the server answers 204 with an HX-Trigger).
"use strict";

Paddock.part("#panel-diff", (panel, signal) => {
  const buttons = panel.querySelectorAll("[data-diff-view]");

  function show(view) {
    panel.dataset.view = view;
    for (const button of buttons) {
      button.setAttribute("aria-pressed", String(button.dataset.diffView === view));
    }
  }

  for (const button of buttons) {
    button.addEventListener("click", () => show(button.dataset.diffView));
  }
  document.body.addEventListener("paddock-pushed", () => Paddock.toast("Pushed.", "info", 4), { signal });
});
