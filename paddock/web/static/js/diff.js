// The workspace's Diff tab: the unified/split toggle. The choice is the panel's `data-view`
// (outside the part the live stream re-renders, so a refresh keeps it); CSS shows one table.
// A push or a clean rebase that went through says so in a toast (the server answers 204 with
// an HX-Trigger).
//
// The tab's forms (commit message, merge strategy and boxes) are inside the live part, which an
// agent writing files re-renders many times a second: what the user typed or chose there is
// kept across a re-render, field by field, until the server takes the form.
"use strict";

Paddock.part("#panel-diff", (panel, signal) => {
  const buttons = panel.querySelectorAll("[data-diff-view]");
  const edited = new Map(); // "form label/field name" → the user's value

  function show(view) {
    panel.dataset.view = view;
    for (const button of buttons) {
      button.setAttribute("aria-pressed", String(button.dataset.diffView === view));
    }
  }

  function keyOf(field) {
    const form = field.form;
    return form && field.name ? `${form.getAttribute("aria-label")}/${field.name}` : null;
  }

  function remember(event) {
    const key = keyOf(event.target);
    if (!key) return;
    edited.set(key, event.target.type === "checkbox" ? event.target.checked : event.target.value);
  }

  function restore() {
    for (const field of panel.querySelectorAll("#diff-body form [name]")) {
      const key = keyOf(field);
      if (!edited.has(key)) continue;
      if (field.type === "checkbox") field.checked = edited.get(key);
      else field.value = edited.get(key);
    }
  }

  function watchSent(event) {
    // A form the server takes goes back to what the server renders. A refusal keeps the user's
    // choices for the next try. The form sent may be gone from the page by the answer (a
    // re-render came first): the listener is on it, not on the panel.
    const form = event.detail.elt;
    if (!form || form.tagName !== "FORM") return;
    const label = form.getAttribute("aria-label");
    form.addEventListener("htmx:afterRequest", (done) => {
      if (!done.detail.successful) return;
      for (const key of [...edited.keys()]) {
        if (key.startsWith(`${label}/`)) edited.delete(key);
      }
      const shown = panel.querySelector(`#diff-body form[aria-label="${CSS.escape(label)}"]`);
      if (shown) shown.reset();
    }, { once: true });
  }

  for (const button of buttons) {
    button.addEventListener("click", () => show(button.dataset.diffView));
  }
  panel.addEventListener("input", remember, { signal });
  panel.addEventListener("change", remember, { signal });
  panel.addEventListener("htmx:beforeRequest", watchSent, { signal });
  document.addEventListener("htmx:oobAfterSwap", (event) => {
    if (event.target.id === "diff-body") restore();
  }, { signal });
  document.body.addEventListener("paddock-pushed", () => Paddock.toast("Pushed.", "info", 4), { signal });
  document.body.addEventListener("paddock-rebased", () => Paddock.toast("Rebased onto the latest base.", "info", 4), { signal });
});
