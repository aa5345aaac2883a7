// The address holds the view, so a reload, Back and Forward, and a shared link show the same:
// on a board, what its side panel shows (?task=<id>, or ?attempt=<id>&tab=<tab>); on an
// attempt's page, its workspace's tab (?tab=<tab>). Opening, closing and switching push an
// entry; Back and Forward put the view back as their address says, without pushing.
"use strict";

(function () {
  const PANEL_KEYS = ["task", "attempt", "tab"];
  let restoring = 0; // > 0 while the view is being put back from the address: no push

  function panel() {
    return document.getElementById("panel");
  }

  function workspace(root) {
    return (root || document).querySelector(".workspace[data-attempt-id]");
  }

  function selectedTab(space) {
    const tab = space && space.querySelector('.tabs [role="tab"][aria-selected="true"]');
    return tab ? tab.dataset.tab : "";
  }

  // What the side panel shows now: {task} or {attempt, tab}, or {} when it is closed.
  function panelView() {
    const box = panel();
    if (!box || box.hidden) return {};
    const space = workspace(box);
    if (space) return { attempt: space.dataset.attemptId, tab: selectedTab(space) };
    const task = box.querySelector(".panel-inner[data-task-id]");
    return task ? { task: task.dataset.taskId } : {};
  }

  // The address of `view` on this page: the other parameters (the board's filter) are kept.
  function addressOf(view) {
    const url = new URL(location.href);
    for (const key of PANEL_KEYS) url.searchParams.delete(key);
    for (const key of PANEL_KEYS) if (view[key]) url.searchParams.set(key, view[key]);
    return url.pathname + url.search + url.hash;
  }

  function record(view, replace) {
    if (restoring) return;
    const address = addressOf(view);
    if (address === location.pathname + location.search + location.hash) return;
    if (replace) history.replaceState({ paddock: true }, "", address);
    else history.pushState({ paddock: true }, "", address);
  }

  // The links that go to the open attempt's own page, or back beside the board, keep its tab.
  function syncLinks(space) {
    const tab = selectedTab(space);
    for (const link of document.querySelectorAll("a[data-keeps-tab]")) {
      const url = new URL(link.href, location.href);
      if (tab) url.searchParams.set("tab", tab);
      link.href = url.pathname + url.search;
    }
  }

  function selectTab(space, name) {
    const tab = name && space.querySelector(`.tabs [role="tab"][data-tab="${CSS.escape(name)}"]`);
    const wanted = tab || space.querySelector(`.tabs [role="tab"][data-tab="${CSS.escape(space.dataset.defaultTab || "")}"]`);
    if (wanted && wanted.getAttribute("aria-selected") !== "true") wanted.click();
  }

  async function load(url) {
    restoring += 1;
    try {
      await htmx.ajax("GET", url, { target: "#panel", swap: "innerHTML" });
    } finally {
      restoring -= 1;
    }
  }

  // Puts the page's view back as the address says.
  async function restore() {
    const params = new URLSearchParams(location.search);
    const box = panel();
    if (!box) { // an attempt's own page
      const space = workspace();
      if (space) { restoring += 1; try { selectTab(space, params.get("tab")); } finally { restoring -= 1; } }
      return;
    }
    const now = panelView();
    const attempt = params.get("attempt");
    const task = params.get("task");
    const tab = params.get("tab") || "";
    if (attempt && now.attempt === attempt) {
      restoring += 1;
      try { selectTab(workspace(box), tab); } finally { restoring -= 1; }
    } else if (attempt) {
      await load(`/ui/attempts/${encodeURIComponent(attempt)}/panel?tab=${encodeURIComponent(tab)}`);
    } else if (task && !(now.task === task)) {
      await load(`/ui/tasks/${encodeURIComponent(task)}/panel`);
    } else if (!task && !attempt) {
      restoring += 1;
      try { Paddock.closePanel(); } finally { restoring -= 1; }
    }
  }

  // The panel opened, closed or shows something else: a new entry (a task panel saved or an
  // attempt's panel re-rendered in place is the same view: nothing to push). A task deleted
  // from its panel leaves nothing to come back to: its entry is replaced.
  document.addEventListener("paddock:panel", () => {
    const box = panel();
    const view = panelView();
    const gone = box && !box.hidden && !view.task && !view.attempt;
    record(view, gone);
    syncLinks(workspace(box || undefined));
  });

  // A workspace's tab was chosen: on a board, in the panel's view; on its page, ?tab=.
  document.addEventListener("paddock:tab", (event) => {
    const space = event.target.closest(".workspace[data-attempt-id]");
    if (!space) return;
    syncLinks(space);
    if (panel()) {
      if (panel().contains(space)) record(panelView(), false);
    } else {
      record({ tab: selectedTab(space) }, false);
    }
  });

  // A new attempt started from the task panel shows beside the board (tasks.py's HX-Trigger).
  document.addEventListener("attemptStarted", (event) => {
    const id = event.detail && event.detail.value;
    if (id) htmx.ajax("GET", `/ui/attempts/${encodeURIComponent(id)}/panel`, { target: "#panel", swap: "innerHTML" });
  });

  // The board's filter puts its own address (?q=) in the history: the panel's view stays in it.
  document.addEventListener("htmx:pushedIntoHistory", () => record(panelView(), true));

  window.addEventListener("popstate", () => { restore(); });
  document.addEventListener("DOMContentLoaded", () => {
    syncLinks(workspace());
    const params = new URLSearchParams(location.search);
    if (panel() && (params.get("task") || params.get("attempt"))) restore();
  });
})();
