// The workspace's Preview tab. Open asks for a fresh one-time link and opens it in a new tab;
// View here shows a service in the iframe below the list, through a link for embedding (a
// partitioned cookie: the only kind a browser sends to an iframe of another site), at a device
// size; Log shows the dev server's log in the Logs tab. Links are fetched on click, never
// written into the page. The service rows are HTML the live stream renders (decision 005): the
// view follows their status (blank while the preview is not running, loaded again once it is).
"use strict";

Paddock.part("#preview-viewer", (viewer, signal) => {
  const frame = document.getElementById("preview-frame");
  const stage = viewer.querySelector(".preview-stage");
  const heading = document.getElementById("preview-viewer-title");
  const status = document.getElementById("preview-viewer-status");
  const address = document.getElementById("preview-address");
  const path = document.getElementById("preview-path");
  const origin = document.getElementById("preview-origin");
  const state = { previewId: "", service: "", running: false, path: "/" };

  // A link at `where` inside the preview (the address bar's path; the host stays its own).
  async function openLink(previewId, embed, where = "/") {
    const query = new URLSearchParams({ path: where });
    if (embed) query.set("embed", "true");
    const url = `/ui/previews/${encodeURIComponent(previewId)}/open?${query}`;
    const response = await fetch(url, { method: "POST", headers: { accept: "application/json" } });
    if (!response.ok) {
      const responseText = await response.text();
      throw Paddock.describeError({ status: response.status, statusText: response.statusText, responseText });
    }
    return (await response.json()).url;
  }

  function report(error) {
    Paddock.toast(error && error.text ? error.text : "The Paddock server cannot be reached. Is it running?");
  }

  function rowOf(previewId) {
    return previewId ? document.querySelector(`.preview-service[data-preview-id="${CSS.escape(previewId)}"]`) : null;
  }

  // A tab opened at the click (a popup opened after an await may be blocked), sent on once the
  // link arrives; without an opener, so the preview cannot reach back into Paddock's page.
  async function openInTab(previewId, where = "/") {
    const tab = window.open("about:blank", "_blank");
    if (tab) tab.opener = null;
    try {
      const url = await openLink(previewId, false, where);
      if (tab) tab.location.href = url;
      else window.open(url, "_blank", "noopener");
    } catch (error) {
      if (tab) tab.close();
      report(error);
    }
  }

  function blank(text) {
    state.running = false;
    frame.src = "about:blank";
    status.textContent = text;
  }

  async function load() {
    const row = rowOf(state.previewId);
    if (!row || row.dataset.status !== "running") {
      blank(`${state.service} is ${row ? row.dataset.status : "gone"}: start it to see it here.`);
      return;
    }
    state.running = true;
    status.textContent = "Loading…";
    try {
      frame.src = await openLink(state.previewId, true, state.path);
      status.textContent = "";
    } catch (error) {
      blank("");
      report(error);
    }
  }

  function view(button) {
    if (button.dataset.previewView !== state.previewId) state.path = path.value = "/";
    state.previewId = button.dataset.previewView;
    state.service = button.dataset.service || "";
    const url = rowOf(state.previewId)?.querySelector(".preview-url");
    origin.textContent = url ? url.textContent.trim().replace(/\/$/, "") : "";
    heading.textContent = `Preview of ${state.service}`;
    frame.title = `Preview of ${state.service}`;
    viewer.hidden = false;
    load();
    viewer.scrollIntoView({ block: "nearest" });
  }

  function close() {
    const service = state.service;
    state.previewId = state.service = "";
    blank("");
    viewer.hidden = true;
    const button = document.querySelector(`[data-preview-view][data-service="${CSS.escape(service)}"]`);
    if (button) button.focus();
  }

  function setDevice(name) {
    stage.dataset.device = name;
    for (const button of viewer.querySelectorAll("[data-device]")) {
      button.setAttribute("aria-pressed", String(button.dataset.device === name));
    }
  }

  // The rows were rendered again: the viewed preview may have stopped, or run again.
  function sync() {
    if (viewer.hidden || !state.previewId) return;
    const row = rowOf(state.previewId);
    const now = row ? row.dataset.status : "gone";
    if (now === "running" && !state.running) load();
    else if (now !== "running" && state.running) blank(`${state.service} is ${now}: start it to see it here.`);
  }

  let syncQueued = false;
  function queueSync() {
    if (syncQueued) return;
    syncQueued = true;
    queueMicrotask(() => { syncQueued = false; sync(); });
  }

  document.addEventListener("click", (event) => {
    const target = event.target.closest && event.target.closest("[data-preview-open], [data-preview-view], [data-preview-log], [data-device]");
    if (!target) return;
    if (target.dataset.previewOpen) openInTab(target.dataset.previewOpen);
    else if (target.dataset.previewView) view(target);
    else if (target.dataset.previewLog) Paddock.showLog(target.dataset.previewLog);
    else if (target.dataset.device) setDevice(target.dataset.device);
  }, { signal });
  // The address bar: Go shows that path here; its other button opens it in a new tab.
  address.addEventListener("submit", (event) => {
    event.preventDefault();
    const typed = path.value.trim();
    state.path = path.value = typed.startsWith("/") ? typed : `/${typed}`;
    load();
  });
  document.getElementById("preview-open-path").addEventListener("click", () => {
    if (state.previewId) openInTab(state.previewId, path.value.trim() || "/");
  });
  document.getElementById("preview-reload").addEventListener("click", load);
  document.getElementById("preview-close").addEventListener("click", close);
  document.addEventListener("htmx:oobAfterSwap", queueSync, { signal });
});
