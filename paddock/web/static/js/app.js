// Paddock UI, every page: errors from the API shown where they happened, tabs, the side panel,
// optional notifications. The API answers errors as JSON {code, message, debug_id?}.
"use strict";

const Paddock = (window.Paddock = {});

Paddock.describeError = function (xhr) {
  let body = null;
  try { body = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
  if (!body || !body.message) {
    return { text: `The server answered ${xhr.status} ${xhr.statusText || ""}`.trim(), code: `http_${xhr.status}` };
  }
  let text = body.message;
  if (body.debug_id) text += ` (debug id ${body.debug_id})`;
  return { text, code: body.code, field: body.field };
};

// Parts of a page that come and go with htmx swaps (the attempt workspace, on its own page or in
// the board's side panel): `setup(element, signal)` runs for each element matching `selector`
// once it is on the page, and `signal` aborts when it leaves (an htmx swap cleans it up, or the
// side panel closes). Listeners added with { signal }, and streams closed on its "abort", go
// with their part.
const parts = [];
const mounted = new Map(); // element -> its AbortController
function mountWithin(root) {
  if (!root || !root.querySelectorAll) return;
  for (const { selector, setup } of parts) {
    const found = [...root.querySelectorAll(selector)];
    if (root.matches(selector)) found.push(root);
    for (const element of found) {
      if (mounted.has(element) || !element.isConnected) continue;
      const control = new AbortController();
      mounted.set(element, control);
      setup(element, control.signal);
    }
  }
}
function unmount(element) {
  const control = mounted.get(element);
  if (!control) return;
  mounted.delete(element);
  control.abort();
}
Paddock.part = function (selector, setup) {
  parts.push({ selector, setup });
  mountWithin(document.body);
};
Paddock.unmountWithin = function (root) {
  for (const element of [...mounted.keys()]) if (root.contains(element)) unmount(element);
};
function remount(root) {
  for (const element of [...mounted.keys()]) if (!element.isConnected) unmount(element);
  mountWithin(root);
}
htmx.onLoad(remount);
// Back to a page htmx kept in its history (the board's filter): its parts are new elements.
document.addEventListener("htmx:historyRestore", () => remount(document.body));
document.addEventListener("htmx:beforeCleanupElement", (event) => unmount(event.target));

// The workspace's Logs tab, showing one process's log (Log buttons of the other tabs).
Paddock.showLog = function (processId) {
  const tab = document.getElementById("tab-logs");
  if (tab) tab.click();
  const pick = document.querySelector(`#process-list .process-pick[data-process-id="${CSS.escape(processId)}"]`);
  if (pick) {
    pick.click();
    pick.focus();
  }
};

Paddock.toast = function (text, kind = "error", seconds = 8) {
  const box = document.getElementById("toasts");
  if (!box) return;
  const toast = document.createElement("div");
  toast.className = `toast ${kind}`;
  toast.setAttribute("role", kind === "error" ? "alert" : "status");
  toast.textContent = text;
  box.appendChild(toast);
  setTimeout(() => toast.remove(), seconds * 1000);
};

// An error answer goes into the .form-error of the form that sent it, else into a toast. When
// it names one of the form's fields (`field`), that field is marked invalid and focused (a
// collapsed section around it is opened).
document.addEventListener("htmx:responseError", (event) => {
  const { text, code, field } = Paddock.describeError(event.detail.xhr);
  const form = event.detail.elt.closest("form");
  const slot = form && form.querySelector(".form-error");
  if (slot) {
    slot.textContent = text;
    slot.dataset.code = code;
    const input = field && form.elements.namedItem(field);
    const target = input instanceof RadioNodeList ? input[0] : input;
    if (target && target.setAttribute) {
      target.setAttribute("aria-invalid", "true");
      if (slot.id) target.setAttribute("aria-errormessage", slot.id);
      const section = target.closest("details");
      if (section) section.open = true;
      target.focus();
    }
  } else {
    Paddock.toast(text);
  }
});
document.addEventListener("htmx:beforeRequest", (event) => {
  const form = event.detail.elt.closest("form");
  const slot = form && form.querySelector(".form-error");
  if (slot) slot.textContent = "";
  if (form) for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
});
document.addEventListener("htmx:sendError", () => {
  Paddock.toast("The Paddock server cannot be reached. Is it running?");
});

// Live pages get out-of-band swaps for elements a page may not show (a card below the loaded
// part of a long column, a card not on the page yet): those are dropped, as decision 005 says,
// instead of htmx logging an error for each. A card this same message inserts is a target too.
// An insertion whose place is not on the page may name other places (`data-fallbacks`, the
// first one present wins): a new card shows at the end of a long column's loaded part.
// An insertion marked `data-skip-present` leaves out the elements whose id the page already
// has (a stream that replays after a reconnection, a turn the page was rendered with).
htmx.defineExtension("paddock-live", {
  transformResponse(text) {
    if (!text.includes("hx-swap-oob")) return text;
    const template = document.createElement("template");
    template.innerHTML = text;
    let changed = false;
    for (const el of template.content.querySelectorAll("[data-skip-present]")) {
      for (const child of [...el.children]) {
        if (child.id && document.getElementById(child.id)) { child.remove(); changed = true; }
      }
      if (!el.children.length) el.remove();
    }
    const present = (value, el) => {
      const colon = value.indexOf(":");
      const selector = colon > 0 ? value.slice(colon + 1) : `#${CSS.escape(el.id)}`;
      const style = colon > 0 ? value.slice(0, colon) : value;
      const inserted = style !== "delete" && [...template.content.querySelectorAll(selector)]
        .some((other) => other !== el && !other.hasAttribute("hx-swap-oob"));
      return Boolean(document.querySelector(selector)) || inserted;
    };
    for (const el of template.content.querySelectorAll("[hx-swap-oob]")) {
      if (present(el.getAttribute("hx-swap-oob"), el)) continue;
      const fallback = (el.dataset.fallbacks || "").split(" ").find((value) => value && present(value, el));
      if (fallback) el.setAttribute("hx-swap-oob", fallback);
      else el.remove();
      changed = true;
    }
    return changed ? template.innerHTML : text;
  },
});

// Tabs (WAI-ARIA): click or arrow keys choose; the panel follows.
function selectTab(tab) {
  const list = tab.closest('[role="tablist"]');
  for (const other of list.querySelectorAll('[role="tab"]')) {
    const chosen = other === tab;
    other.setAttribute("aria-selected", String(chosen));
    other.tabIndex = chosen ? 0 : -1;
    const panel = document.getElementById(other.getAttribute("aria-controls"));
    if (panel) panel.hidden = !chosen;
  }
  tab.dispatchEvent(new CustomEvent("paddock:tab", { bubbles: true, detail: { id: tab.id } }));
}
document.addEventListener("click", (event) => {
  const tab = event.target.closest('[role="tab"]');
  if (tab) selectTab(tab);
});
document.addEventListener("keydown", (event) => {
  const tab = event.target.closest && event.target.closest('[role="tab"]');
  if (!tab || !["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) return;
  const tabs = [...tab.closest('[role="tablist"]').querySelectorAll('[role="tab"]')];
  let i = tabs.indexOf(tab);
  if (event.key === "ArrowLeft") i = (i - 1 + tabs.length) % tabs.length;
  if (event.key === "ArrowRight") i = (i + 1) % tabs.length;
  if (event.key === "Home") i = 0;
  if (event.key === "End") i = tabs.length - 1;
  selectTab(tabs[i]);
  tabs[i].focus();
  event.preventDefault();
});

// The side panel opens when content arrives in it (a task, or an attempt's workspace); ✕ or
// Escape closes it. What it shows is in the address (js/address.js).
document.addEventListener("htmx:afterSwap", (event) => {
  const panel = event.detail.target; // none for the out-of-band swaps of live pages
  if (panel && panel.id === "panel") {
    panel.hidden = false;
    const attempt = Boolean(panel.querySelector(".workspace"));
    panel.classList.toggle("wide", attempt);
    panel.setAttribute("aria-label", attempt ? "Attempt" : "Task");
    const title = panel.querySelector("h1, h2");
    if (title) { title.tabIndex = -1; title.focus(); }
    panel.dispatchEvent(new CustomEvent("paddock:panel", { bubbles: true }));
  }
});
Paddock.closePanel = function () {
  const panel = document.getElementById("panel");
  if (!panel || panel.hidden) return false;
  const taskId = panel.querySelector("[data-task-id]")?.dataset.taskId;
  panel.hidden = true;
  panel.classList.remove("wide");
  // Through htmx, so what the panel held is cleaned up: its live streams close.
  Paddock.unmountWithin(panel);
  htmx.swap(panel, "", { swapStyle: "innerHTML" });
  const card = taskId && document.getElementById(`card-${taskId}`);
  if (card) card.focus();
  panel.dispatchEvent(new CustomEvent("paddock:panel", { bubbles: true }));
  return true;
};
const closePanel = Paddock.closePanel;
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-close-panel]")) closePanel();
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  // Escape in a workspace's field (the log search, a follow-up) is the field's, not the panel's.
  const field = event.target.matches && event.target.matches("input, textarea, select");
  if (field && event.target.closest(".workspace")) return;
  closePanel();
});

// First-run hints ([data-hint], templates/_hint.html): shown until dismissed; the dismissal is
// remembered in this browser, per hint (a hint is help, not data: no server state for it).
const HINT_KEY = "paddock.hint.";
htmx.onLoad((root) => {
  const hints = root.querySelectorAll ? root.querySelectorAll("[data-hint]") : [];
  for (const hint of hints) hint.hidden = localStorage.getItem(HINT_KEY + hint.dataset.hint) === "dismissed";
});
document.addEventListener("click", (event) => {
  const hint = event.target.closest("[data-dismiss-hint]")?.closest("[data-hint]");
  if (!hint) return;
  localStorage.setItem(HINT_KEY + hint.dataset.hint, "dismissed");
  hint.hidden = true;
  document.getElementById("main")?.focus();
});

// Notifications when an attempt finishes or fails (opt-in, remembered in this browser).
const NOTIFY_KEY = "paddock.notify";
let notifySource = null;
function beep() {
  try {
    const ctx = new AudioContext();
    const osc = ctx.createOscillator();
    osc.frequency.value = 660;
    osc.connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.12);
  } catch (_) { /* no audio here */ }
}
function watchAttempts(on) {
  const button = document.getElementById("notify-toggle");
  if (button) {
    button.setAttribute("aria-pressed", String(on));
    button.textContent = on ? "Notifications on" : "Notifications off";
  }
  if (notifySource) { notifySource.close(); notifySource = null; }
  if (!on) return;
  notifySource = new EventSource("/api/events");
  const last = new Map();
  notifySource.addEventListener("attempt.updated", (event) => {
    const attempt = JSON.parse(event.data).data;
    const before = last.get(attempt.id);
    last.set(attempt.id, attempt.status);
    const ended = before && before !== attempt.status && ["awaiting_review", "failed"].includes(attempt.status);
    if (!ended) return;
    const text = attempt.status === "failed" ? `Attempt failed: ${attempt.error || attempt.branch}` : `Attempt awaits your review: ${attempt.branch}`;
    if (window.Notification && Notification.permission === "granted") new Notification("Paddock", { body: text });
    Paddock.toast(text, attempt.status === "failed" ? "error" : "info");
    beep();
  });
}
document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("notify-toggle");
  if (!button) return;
  watchAttempts(localStorage.getItem(NOTIFY_KEY) === "on");
  button.addEventListener("click", async () => {
    const on = localStorage.getItem(NOTIFY_KEY) !== "on";
    if (on && window.Notification && Notification.permission === "default") {
      await Notification.requestPermission();
    }
    localStorage.setItem(NOTIFY_KEY, on ? "on" : "off");
    watchAttempts(on);
  });
});

// The new-attempt form follows the chosen agent: its installed state and version, its variants
// (each profile's are in a <template>), and a command field only for the script agent.
function syncAgentFields(select) {
  const option = select.selectedOptions[0];
  const form = select.form;
  if (!option || !form) return;
  const field = form.querySelector(".script-only");
  if (field) field.hidden = !option.hasAttribute("data-needs-command");
  const info = form.querySelector("#attempt-agent-info");
  if (info) info.textContent = option.dataset.info || "";
  const variantField = form.querySelector(".variant-field");
  if (variantField) variantField.hidden = !option.hasAttribute("data-cli"); // a script has none
  const variants = form.querySelector("#attempt-variant");
  const template = form.querySelector(`template[data-variants-for="${CSS.escape(option.value)}"]`);
  if (variants && template && variants.dataset.profile !== option.value) {
    variants.replaceChildren(template.content.cloneNode(true));
    variants.dataset.profile = option.value;
  }
}
document.addEventListener("change", (event) => {
  if (event.target.id === "attempt-agent") syncAgentFields(event.target);
});
htmx.onLoad((root) => {
  const select = root.querySelector && root.querySelector("#attempt-agent");
  if (select) syncAgentFields(select);
});
