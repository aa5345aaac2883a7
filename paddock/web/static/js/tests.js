// The workspace's Tests and Artifacts tabs, and an attempt's API docs page.
//
// Tests: the runs table is HTML the live stream renders (decision 005); this keeps the detail
// pane beside it in step: the shown run is marked in the table, shown again when its status
// moves on (running → failed), and the newest run is shown when none was. Log buttons show a
// process's log in the Logs tab.
//
// API docs: Swagger UI (vendored) with a request interceptor that sends "Try it out" to the
// attempt's preview through the proxy's path fallback on this origin (/preview/<id>/<path>),
// with the preview's key in X-Paddock-Preview-Key; the key is fetched by this page, never
// written into it.
"use strict";

(function () {
  const KEY_HEADER = "X-Paddock-Preview-Key";

  // -- the workspace ---------------------------------------------------------------------

  function detailPane() {
    return document.getElementById("test-run-detail");
  }

  function loadRun(runId) {
    const pane = detailPane();
    if (!pane || pane.dataset.loading) return;
    pane.dataset.loading = runId;
    htmx.ajax("GET", `/ui/test-runs/${encodeURIComponent(runId)}`, { target: pane, swap: "innerHTML" })
      .finally(() => { delete pane.dataset.loading; });
  }

  function markShown(runId) {
    for (const button of document.querySelectorAll("#test-runs .test-run-pick")) {
      const row = button.closest("tr");
      button.setAttribute("aria-pressed", String(row && row.dataset.runId === runId));
    }
  }

  // The table was rendered again (or the pane was filled): keep the two in step.
  function syncTests() {
    const pane = detailPane();
    if (!pane) return;
    const shown = pane.querySelector(".test-run-detail");
    if (!shown) {
      const newest = document.querySelector("#test-runs .test-run-row");
      if (newest) loadRun(newest.dataset.runId);
      return;
    }
    const runId = shown.dataset.runId;
    markShown(runId);
    const row = document.getElementById(`test-run-${runId}`);
    if (row && row.dataset.status !== shown.dataset.status) loadRun(runId);
  }

  let syncQueued = false;
  function queueSync() {
    if (syncQueued) return;
    syncQueued = true;
    queueMicrotask(() => { syncQueued = false; syncTests(); });
  }

  function pressFilter(button) {
    for (const other of button.parentElement.querySelectorAll("[data-case-filter]")) {
      other.setAttribute("aria-pressed", String(other === button));
    }
  }

  function workspace(signal) {
    document.addEventListener("click", (event) => {
      const target = event.target.closest && event.target.closest("[data-test-log], [data-case-filter]");
      if (!target) return;
      if (target.dataset.testLog) Paddock.showLog(target.dataset.testLog);
      else pressFilter(target);
    }, { signal });
    document.addEventListener("htmx:oobAfterSwap", queueSync, { signal });
    document.addEventListener("htmx:afterSwap", (event) => {
      if (event.detail.target === detailPane()) queueSync();
    }, { signal });
    syncTests();
  }

  // -- the API docs page -------------------------------------------------------------------

  async function problemOf(response) {
    const text = await response.text();
    try {
      const body = JSON.parse(text);
      if (body && body.message) return body.message + (body.debug_id ? ` (debug id ${body.debug_id})` : "");
    } catch (_) { /* not JSON */ }
    return `The server answered ${response.status} ${response.statusText || ""}`.trim();
  }

  async function post(url, body) {
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { accept: "application/json", "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (_) {
      throw new Error("The Paddock server cannot be reached. Is it running?");
    }
    if (!response.ok) throw new Error(await problemOf(response));
    return response.json();
  }

  function apiDocs(root) {
    const attemptId = root.dataset.attemptId;
    const specUrl = new URL(root.dataset.specUrl, location.href);
    const state = { previewId: root.dataset.previewId || "", key: "" };
    const target = document.getElementById("api-docs-target");
    const startButton = document.getElementById("api-docs-start");
    const errorSlot = document.getElementById("api-docs-error");

    function fail(error) {
      errorSlot.textContent = error.message || String(error);
    }

    async function fetchKey() {
      state.key = "";
      root.dataset.ready = "false";
      const link = await post(`/api/previews/${encodeURIComponent(state.previewId)}/open`);
      state.key = link.key;
      root.dataset.ready = "true";
    }

    async function startPreview() {
      startButton.disabled = true;
      errorSlot.textContent = "";
      target.textContent = "Starting the preview…";
      try {
        const previews = await post(`/api/attempts/${encodeURIComponent(attemptId)}/previews`, { wait: true });
        const running = previews.filter((p) => p.status === "running");
        const chosen = running.find((p) => p.service === "web") || running[0];
        if (!chosen) {
          const failed = previews.find((p) => p.error);
          throw new Error(failed ? `The preview did not start: ${failed.error}` : "The preview did not start: see the Preview tab.");
        }
        state.previewId = chosen.id;
        await fetchKey();
        target.textContent = `Try it out sends requests to the preview of ${chosen.service}, through Paddock.`;
        startButton.hidden = true;
      } catch (error) {
        target.textContent = "No preview of this attempt is running: the docs are readable, but Try it out needs the app running.";
        fail(error);
      } finally {
        startButton.disabled = false;
      }
    }

    // Every request Swagger UI makes passes here: the spec's own load stays on Paddock's API,
    // the rest goes to the preview's app by its path (and query), whatever server the spec names.
    function intercept(request) {
      const url = new URL(request.url, location.href);
      const isSpec = request.loadSpec || (url.origin === location.origin && url.pathname === specUrl.pathname);
      if (isSpec || !state.previewId) return request;
      request.url = `/preview/${encodeURIComponent(state.previewId)}${url.pathname}${url.search}`;
      request.headers = request.headers || {};
      if (state.key) request.headers[KEY_HEADER] = state.key;
      return request;
    }

    async function generate(button) {
      button.disabled = true;
      errorSlot.textContent = "";
      try {
        await post(`/api/attempts/${encodeURIComponent(attemptId)}/openapi`);
        location.reload();
      } catch (error) {
        fail(error);
        button.disabled = false;
      }
    }

    const generateButton = document.getElementById("api-docs-generate");
    if (generateButton) {
      generateButton.addEventListener("click", () => generate(generateButton));
      return;
    }
    startButton.addEventListener("click", startPreview);
    if (state.previewId) fetchKey().catch(fail);
    window.SwaggerUIBundle({
      url: specUrl.pathname,
      dom_id: "#swagger-ui",
      deepLinking: false,
      presets: [window.SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      requestInterceptor: intercept,
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const docs = document.getElementById("api-docs");
    if (docs) apiDocs(docs);
  });
  // The workspace's Tests tab, wherever a workspace shows (its page, the board's side panel);
  // the API docs page has no app.js.
  if (window.Paddock) Paddock.part("#test-run-detail", (_pane, signal) => workspace(signal));
})();
