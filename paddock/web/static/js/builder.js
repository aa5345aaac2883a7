// The builder face's pages (templates/builder): the brief's feature rows, the app page kept
// live, the preview link, the decision gate once the preview was seen, the deploy check's
// copy buttons. (The floating chat is js/builder_chat.js.)
//
// Live: the app's timeline stream (GET /api/apps/{id}/timeline/stream) says what happened
// (`timeline` entries, in plain words, with ids to resume from) and when a build changed
// (`build`, its state). A new entry goes on top of the timeline; a build change fetches the
// build card again from the server (/ui/builds/{id}/card), so the card is rendered in one place;
// a new version fetches the versions list.
"use strict";

// --- the brief's feature rows -------------------------------------------------------------
document.addEventListener("click", (event) => {
  const add = event.target.closest("[data-add-feature]");
  if (add) {
    const form = add.closest("form");
    const template = form.querySelector("#feature-row-template");
    const rows = form.querySelector("#feature-rows");
    rows.appendChild(template.content.cloneNode(true));
    rows.lastElementChild.querySelector("input").focus();
    return;
  }
  const remove = event.target.closest("[data-remove-feature]");
  if (remove) {
    const row = remove.closest(".feature-row");
    const next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    (next ? next.querySelector("input") : document.querySelector("[data-add-feature]"))?.focus();
  }
});

// --- the decision gate --------------------------------------------------------------------
// Told once a page load that the founder saw the preview (POST /ui/apps/{id}/preview-viewed);
// its answer is the gate panel to show, or nothing when there is nothing to decide.
let previewReported = false;

async function previewSeen(appId) {
  if (previewReported) return;
  previewReported = true;
  try {
    const url = `/ui/apps/${encodeURIComponent(appId)}/preview-viewed`;
    const response = await fetch(url, { method: "POST", headers: { accept: "text/html" } });
    if (!response.ok) throw Paddock.describeError({ status: response.status, statusText: response.statusText, responseText: await response.text() });
    const html = (await response.text()).trim();
    const slot = document.getElementById("gate-slot");
    if (html && slot && !document.getElementById("gate")) htmx.swap(slot, html, { swapStyle: "innerHTML" });
  } catch (error) {
    previewReported = false; // not recorded: the next look tries again
    Paddock.toast(error && error.text ? error.text : "The Paddock server cannot be reached. Is it running?");
  }
}

// Where a decision sent the page (`?at=`, web/ui/builder_decisions.py): "change" focuses the
// change conversation (Iterate), "deploy-check" runs the deploy check (Ship), "builds" shows
// the build card. The address then loses the query, so a reload does not do it again.
function arrived(pageEl) {
  const at = new URLSearchParams(location.search).get("at");
  if (!at) return;
  history.replaceState(null, "", location.pathname + location.hash);
  if (at === "change") {
    const field = pageEl.querySelector("#change textarea, #change button");
    if (field) {
      field.scrollIntoView({ block: "center" });
      field.focus();
    }
  } else if (at === "deploy-check") {
    const form = pageEl.querySelector(".deploy-check-form");
    if (form) {
      form.scrollIntoView({ block: "start" });
      // htmx may not have taken the page in hand yet (the order of this timer and its
      // DOMContentLoaded is not fixed): an unprocessed form would ignore the submit. Processing
      // twice is a no-op.
      htmx.process(form);
      htmx.trigger(form, "submit");
    }
  } else if (at === "builds") {
    const builds = document.getElementById("builds");
    if (builds) builds.scrollIntoView({ block: "start" });
  }
}

// --- the app page, live -------------------------------------------------------------------
const VERSION_KINDS = new Set(["version", "rollback", "build_ready"]);

function localTimes(root) {
  for (const time of root.querySelectorAll(".timeline-entry time[datetime]")) {
    const when = new Date(time.getAttribute("datetime"));
    if (!Number.isNaN(when.getTime())) time.textContent = when.toLocaleTimeString();
  }
}

// The newest answer wins: a slow fetch of an older state never replaces a newer one.
function latestOnly() {
  let asked = 0;
  return async (url) => {
    const mine = ++asked;
    const response = await fetch(url, { headers: { accept: "text/html" } });
    if (!response.ok) throw Paddock.describeError({ status: response.status, statusText: response.statusText, responseText: await response.text() });
    const html = await response.text();
    return mine === asked ? html : null;
  };
}

// The card in place of the old one, else at the end of the builds' area (#builds).
function place(html, target, fallback) {
  if (target) htmx.swap(target, html, { swapStyle: "outerHTML" });
  else if (fallback) htmx.swap(fallback, html, { swapStyle: "beforeend" });
}

// What the founder typed or chose in a part of the page, by field id, and where the caret was:
// the build card holds the change conversation's forms, and a re-render of the card (a build's
// news, the stream reconnecting) must not take them away. Every form there leaves the page on
// success (a redirect), so nothing needs forgetting.
function editsIn(root) {
  const values = new Map();
  for (const field of root.querySelectorAll("textarea[id], input[id], select[id]")) {
    if (field.type === "checkbox" || field.type === "radio") {
      if (field.checked !== field.defaultChecked) values.set(field.id, field.checked);
    } else if (field.tagName === "SELECT") {
      if ([...field.options].some((option) => option.selected !== option.defaultSelected)) values.set(field.id, field.value);
    } else if (field.value !== field.defaultValue) {
      values.set(field.id, field.value);
    }
  }
  const focused = root.contains(document.activeElement) ? document.activeElement : null;
  const caret = focused && typeof focused.selectionStart === "number" ? [focused.selectionStart, focused.selectionEnd] : null;
  return { values, focusedId: focused && focused.id, caret };
}

function restoreEdits(edits) {
  for (const [id, value] of edits.values) {
    const field = document.getElementById(id);
    if (!field) continue;
    if (field.type === "checkbox" || field.type === "radio") field.checked = value;
    else field.value = value;
  }
  const focused = edits.focusedId && document.getElementById(edits.focusedId);
  if (!focused) return;
  focused.focus({ preventScroll: true });
  if (edits.caret && typeof focused.setSelectionRange === "function") focused.setSelectionRange(...edits.caret);
}

Paddock.part("#app-page", (pageEl, signal) => {
  const appId = pageEl.dataset.appId;
  let lastSeq = Number(pageEl.dataset.lastSeq || 0);
  const fetchCard = latestOnly();
  const fetchVersions = latestOnly();
  localTimes(pageEl);

  async function refreshCard(buildId) {
    try {
      const html = await fetchCard(`/ui/builds/${encodeURIComponent(buildId)}/card`);
      if (html === null) return;
      const card = document.getElementById("build-card");
      const start = pageEl.querySelector(".build-start");
      if (start && !card) htmx.swap(start, html, { swapStyle: "outerHTML" });
      else if (card) {
        const edits = editsIn(card);
        place(html, card, null);
        restoreEdits(edits);
      } else place(html, null, document.getElementById("builds"));
      watchScreenshot();
    } catch (error) {
      Paddock.toast(error.text || "The Paddock server cannot be reached. Is it running?");
    }
  }

  async function refreshVersions() {
    const versions = document.getElementById("versions");
    if (!versions) return;
    try {
      const html = await fetchVersions(`/ui/apps/${encodeURIComponent(appId)}/versions`);
      if (html !== null) place(html, document.getElementById("versions"), null);
    } catch (error) {
      Paddock.toast(error.text || "The Paddock server cannot be reached. Is it running?");
    }
  }

  // The app reached a stage while the page was open: its badge and the path say so (in the
  // words the server rendered into the badge for it).
  function reached(stage) {
    const badge = document.getElementById("app-stage");
    const words = badge && badge.dataset[`label_${stage}`.replace(/_(\w)/g, (_, c) => c.toUpperCase())];
    if (words) badge.textContent = words;
    const path = pageEl.querySelector(".founder-path");
    if (!path) return;
    const steps = [...path.children];
    const at = steps.findIndex((step) => step.dataset.stage === stage);
    steps.forEach((step, i) => {
      step.className = i < at ? "done" : i === at ? "here" : "next";
      if (i === at) step.setAttribute("aria-current", "step");
      else step.removeAttribute("aria-current");
    });
  }

  function addEntry(entry) {
    if (entry.seq <= lastSeq) return; // a replay after a reconnection
    lastSeq = entry.seq;
    const list = document.getElementById("timeline-list");
    if (list) {
      const item = document.createElement("li");
      item.className = "timeline-entry";
      item.dataset.kind = entry.kind;
      item.dataset.seq = String(entry.seq);
      const time = document.createElement("time");
      time.setAttribute("datetime", entry.at);
      time.title = entry.at;
      const message = document.createElement("span");
      message.className = "message";
      message.textContent = entry.message;
      item.append(time, " ", message);
      list.prepend(item);
      localTimes(item.parentElement);
    }
    if (VERSION_KINDS.has(entry.kind)) refreshVersions();
    if (entry.kind === "mvp_built") reached("mvp_built");
  }

  // The preview counts as seen when the ready build's screenshot is shown (loaded: a lazy image
  // loads once it is near the view) or its preview is opened; the gate then appears.
  function watchScreenshot() {
    const shot = document.querySelector('#build-card[data-status="ready"] #build-screenshot');
    if (!shot) return;
    if (shot.complete && shot.naturalWidth > 0) previewSeen(appId);
    else shot.addEventListener("load", () => previewSeen(appId), { once: true });
  }
  watchScreenshot();
  // After htmx has taken the page's forms in hand (it does at DOMContentLoaded).
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => setTimeout(() => arrived(pageEl), 0), { once: true });
  else setTimeout(() => arrived(pageEl), 0);

  const source = new EventSource(`/api/apps/${encodeURIComponent(appId)}/timeline/stream?after=${lastSeq}`);
  source.addEventListener("open", () => { pageEl.dataset.stream = "open"; });
  source.addEventListener("error", () => { pageEl.dataset.stream = "reconnecting"; });
  source.addEventListener("timeline", (event) => addEntry(JSON.parse(event.data)));
  source.addEventListener("build", (event) => {
    const build = JSON.parse(event.data);
    const shown = document.getElementById("build-card");
    // Only the newest build has a card: an older one's late news is not shown over it.
    if (shown && build.number !== undefined && Number(shown.dataset.number) > build.number) return;
    refreshCard(build.id);
  });
  signal.addEventListener("abort", () => source.close());
});

// --- the deploy check's fixes -------------------------------------------------------------
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  try {
    await navigator.clipboard.writeText(source.textContent);
    button.textContent = "Copied";
  } catch {
    // No clipboard (an insecure origin, a denied permission): the text is selected instead.
    const range = document.createRange();
    range.selectNodeContents(source);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    button.textContent = "Selected: copy it";
  }
});

// --- the preview link ---------------------------------------------------------------------
// A tab opened at the click (a popup opened after an await may be blocked), sent on once the
// one-time link arrives; without an opener, so the preview cannot reach back into this page.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-open-preview]");
  if (!button) return;
  const page = document.getElementById("app-page");
  if (page) previewSeen(page.dataset.appId);
  const tab = window.open("about:blank", "_blank");
  if (tab) tab.opener = null;
  try {
    const url = `/ui/previews/${encodeURIComponent(button.dataset.openPreview)}/open`;
    const response = await fetch(url, { method: "POST", headers: { accept: "application/json" } });
    if (!response.ok) {
      throw Paddock.describeError({ status: response.status, statusText: response.statusText, responseText: await response.text() });
    }
    const link = (await response.json()).url;
    if (tab) tab.location.href = link;
    else window.open(link, "_blank", "noopener");
  } catch (error) {
    if (tab) tab.close();
    Paddock.toast(error && error.text ? error.text : "The Paddock server cannot be reached. Is it running?");
  }
});
