// The board: drag and drop (SortableJS) and keyboard moves call the task API; the board's live
// stream then puts every card where the server says it is.
"use strict";

(function () {
  let focusAfterMove = null; // a task id to focus again once the stream re-renders its card
  let origin = null; // where the card being dragged came from
  let revealing = null; // a task added here, whose card the live stream has yet to bring

  // `undo` puts a dragged card back where it was (a keyboard move has not moved it yet).
  async function moveTask(taskId, stepId, below, undo) {
    const response = await fetch(`/api/tasks/${taskId}`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ step_id: stepId, below: below || "" }),
    });
    if (response.ok) return;
    const text = await response.text();
    let body = null;
    try { body = JSON.parse(text); } catch (_) { /* not JSON */ }
    focusAfterMove = null;
    if (response.status === 409 && body && body.code === "gate_failed") {
      if (undo) undo();
      GateDialog.open({ taskId, stepId, below: below || "", failing: body.failing || [], message: body.message });
      return;
    }
    const fake = { status: response.status, statusText: response.statusText, responseText: text };
    Paddock.toast(`Could not move the card: ${Paddock.describeError(fake).text}`);
    reloadBoard();
  }

  // A gated step refused the card: a dialog says why, and "Move anyway" (with a reason, which
  // the move's history keeps) forces it in; Cancel leaves the card where it is.
  const GateDialog = {
    move: null,

    open(move) {
      this.move = move;
      const dialog = document.getElementById("gate-dialog");
      const card = document.getElementById(`card-${move.taskId}`);
      const title = card ? card.querySelector(".card-title").textContent.trim() : "This card";
      const column = document.getElementById(`column-title-${move.stepId}`);
      const step = column ? column.textContent.trim() : "that step";
      document.getElementById("gate-title").textContent = `“${title}” cannot enter “${step}”`;
      const reasons = document.getElementById("gate-reasons");
      reasons.replaceChildren(...(move.failing.length ? move.failing : [{ reason: move.message }]).map((f) => this.reason(f)));
      document.getElementById("gate-reason").value = "";
      document.getElementById("gate-reason").removeAttribute("aria-invalid");
      document.getElementById("gate-error").textContent = "";
      dialog.showModal();
    },

    reason(failure) {
      const item = document.createElement("li");
      const text = failure.reason ? failure.reason.charAt(0).toUpperCase() + failure.reason.slice(1) : "";
      item.append(text);
      if (failure.test_run_id) this.linkRun(item, failure.test_run_id);
      return item;
    },

    async linkRun(item, runId) {
      // The run's attempt workspace, where its results are.
      try {
        const response = await fetch(`/api/test-runs/${runId}`);
        if (!response.ok) return;
        const { run } = await response.json();
        const link = document.createElement("a");
        link.href = `/attempts/${run.attempt_id}`;
        link.textContent = `test run ${runId}`;
        item.append(" (", link, ")");
      } catch (_) { /* the reason alone is enough */ }
    },

    close() {
      const dialog = document.getElementById("gate-dialog");
      const taskId = this.move && this.move.taskId;
      if (dialog.open) dialog.close();
      this.move = null;
      const card = taskId && document.getElementById(`card-${taskId}`);
      if (card) card.focus();
    },

    async force() {
      const field = document.getElementById("gate-reason");
      const error = document.getElementById("gate-error");
      const reason = field.value.trim();
      if (!reason) {
        error.textContent = "Say why it moves anyway: the reason is kept with the move.";
        field.setAttribute("aria-invalid", "true");
        field.focus();
        return;
      }
      const { taskId, stepId, below } = this.move;
      const response = await fetch(`/api/tasks/${taskId}/move`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ step_id: stepId, below, force: true, reason }),
      });
      if (!response.ok) {
        const fake = { status: response.status, statusText: response.statusText, responseText: await response.text() };
        error.textContent = `Could not move the card: ${Paddock.describeError(fake).text}`;
        return;
      }
      focusAfterMove = taskId; // the stream puts it in its new column; the focus follows
      this.close();
    },
  };

  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-gate-force]")) GateDialog.force();
  });
  document.addEventListener("close", (event) => {
    if (event.target.id === "gate-dialog" && GateDialog.move) GateDialog.close();
  }, true);

  function reloadBoard() {
    const board = document.getElementById("board");
    htmx.ajax("GET", window.location.pathname + window.location.search, { target: "#board", select: "#board", swap: "outerHTML" });
    return board;
  }

  function cardsOf(list) {
    return [...list.children].filter((el) => el.classList.contains("card"));
  }

  function previousCard(card) {
    let el = card.previousElementSibling;
    while (el && !el.classList.contains("card")) el = el.previousElementSibling;
    return el;
  }

  function makeSortable(list) {
    if (list.dataset.sortable) return;
    list.dataset.sortable = "1";
    Sortable.create(list, {
      group: "board",
      animation: 120,
      draggable: ".card",
      filter: ".more",
      onStart(event) {
        origin = { list: event.from, next: event.item.nextElementSibling };
      },
      onEnd(event) {
        const card = event.item;
        if (event.from === event.to && event.oldIndex === event.newIndex) return;
        const above = previousCard(card);
        const back = origin;
        const undo = () => back.list.insertBefore(card, back.next && back.next.parentElement === back.list ? back.next : null);
        moveTask(card.dataset.taskId, event.to.dataset.stepId, above ? above.dataset.taskId : "", undo);
      },
    });
  }

  htmx.onLoad((root) => {
    const lists = root.matches && root.matches(".cards") ? [root] : root.querySelectorAll(".cards");
    for (const list of lists) makeSortable(list);
    if (root.matches && root.matches(".card")) {
      // A page of a long column brings a card shown out of its place meanwhile (created or
      // moved below the loaded part): the page's copy, in its place, stays.
      for (const other of document.querySelectorAll(`[id="${CSS.escape(root.id)}"]`)) {
        if (other !== root) other.remove();
      }
      if (root.id === `card-${revealing}`) reveal(root);
    }
    if (focusAfterMove) {
      const card = document.getElementById(`card-${focusAfterMove}`);
      if (card) { card.focus(); focusAfterMove = null; }
    }
  });

  // A card opens its task beside the board, on a click or Enter. Delegated from the document:
  // the live stream replaces a card whenever its attempt changes, and a card just put in place
  // would lose a click htmx had not yet bound to it.
  // A card's own controls ([data-card-action]: a proposal's Accept and Dismiss) do their own
  // thing: a click or Enter on them does not open the panel too.
  function openCard(card) {
    htmx.ajax("GET", card.dataset.panel, { target: "#panel", swap: "innerHTML" });
  }
  function cardOf(event) {
    const target = event.target;
    if (!target.closest || target.closest("[data-card-action]")) return null;
    return target.closest(".card[data-panel]");
  }
  document.addEventListener("click", (event) => {
    const card = cardOf(event);
    if (card) openCard(card);
  });
  document.addEventListener("keyup", (event) => {
    const card = cardOf(event);
    if (card && event.key === "Enter" && !event.altKey) openCard(card);
  });

  // Keyboard: Alt+←/→ moves the focused card to the top of the previous/next column,
  // Alt+↑/↓ one place up/down in its column.
  document.addEventListener("keydown", (event) => {
    const card = event.target.closest && event.target.closest(".card");
    if (!card || !event.altKey) return;
    const list = card.parentElement;
    const columns = [...document.querySelectorAll(".cards")];
    let target = list, above;
    if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      target = columns[columns.indexOf(list) + (event.key === "ArrowLeft" ? -1 : 1)];
      if (!target) return;
      above = "";
    } else if (event.key === "ArrowUp" || event.key === "ArrowDown") {
      const cards = cardsOf(list);
      const i = cards.indexOf(card);
      const j = event.key === "ArrowUp" ? i - 1 : i + 1;
      if (j < 0 || j >= cards.length) return;
      const others = cards.filter((c) => c !== card);
      above = j === 0 ? "" : others[j - 1].dataset.taskId;
    } else {
      return;
    }
    event.preventDefault();
    focusAfterMove = card.dataset.taskId;
    moveTask(card.dataset.taskId, target.dataset.stepId, above);
  });

  // "New task" opens and closes the form; "Add a task" of an empty board only opens it.
  document.addEventListener("click", (event) => {
    const form = document.getElementById("new-task");
    const opener = event.target.closest("[data-open-new-task]");
    if (opener) {
      form.hidden = opener.dataset.openNewTask === "toggle" ? !form.hidden : false;
      if (!form.hidden) document.getElementById("new-task-title").focus();
    } else if (event.target.closest("[data-close-new-task]")) {
      form.hidden = true;
    } else {
      return;
    }
    for (const el of document.querySelectorAll("[data-open-new-task]")) {
      el.setAttribute("aria-expanded", String(!form.hidden));
    }
  });
  // A task added with the form: the form is ready for the next one, a toast says where the
  // task went, and its card (which the live stream brings, before or after this answer) is
  // scrolled into view and highlighted, whatever the length of its column.
  function reveal(card) {
    revealing = null;
    card.scrollIntoView({ block: "nearest", inline: "nearest" });
    card.classList.add("card-added");
    card.addEventListener("animationend", () => card.classList.remove("card-added"), { once: true });
  }
  document.body.addEventListener("taskCreated", (event) => {
    const form = document.getElementById("new-task");
    form.reset();
    document.getElementById("new-task-title").focus();
    Paddock.toast(event.detail.message, "info", 5);
    const card = document.getElementById(`card-${event.detail.id}`);
    if (card) reveal(card);
    else revealing = event.detail.id;
  });

  // "Show N more" says what its page brings, and how many cards the column still hides: the
  // column's count and the cards shown change live, so the numbers follow them.
  function updateMore() {
    for (const more of document.querySelectorAll(".cards > .more")) {
      const list = more.parentElement;
      const count = document.getElementById(`count-${list.dataset.stepId}`);
      if (!count) continue;
      const left = Number(count.dataset.total) - list.querySelectorAll(":scope > .card").length;
      const next = Math.min(Number(more.dataset.page), left);
      more.hidden = left <= 0;
      setText(more.querySelector(".more-next"), String(Math.max(next, 0)));
      setText(more.querySelector(".more-left"), left > next ? ` (${left} not shown)` : "");
    }
  }
  function setText(el, text) {
    if (el.textContent !== text) el.textContent = text; // else no mutation, no loop
  }
  // Phone widths (small.css): one column at a time. The step picker scrolls the board to a
  // step, and marks the step in view, however the board got there (a swipe, a moved card).
  function columnInView(board) {
    const columns = [...board.querySelectorAll(":scope > .column")];
    const left = board.getBoundingClientRect().left;
    let best = null, distance = Infinity;
    for (const column of columns) {
      const d = Math.abs(column.getBoundingClientRect().left - left);
      if (d < distance) { best = column; distance = d; }
    }
    return best;
  }
  function markStepInView() {
    const board = document.getElementById("board");
    const column = board && columnInView(board);
    if (!column) return;
    for (const button of document.querySelectorAll("[data-show-step]")) {
      const current = button.dataset.showStep === column.dataset.stepId;
      if (current === (button.getAttribute("aria-current") === "true")) continue;
      if (!current) { button.removeAttribute("aria-current"); continue; }
      button.setAttribute("aria-current", "true");
      button.scrollIntoView({ block: "nearest", inline: "nearest" }); // a long picker follows
    }
  }
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-show-step]");
    const column = button && document.getElementById(`column-${button.dataset.showStep}`);
    if (!column) return;
    const board = document.getElementById("board");
    board.scrollTo({ left: board.scrollLeft + column.getBoundingClientRect().left - board.getBoundingClientRect().left });
  });
  let stepQueued = false;
  document.addEventListener("scroll", (event) => {
    if (event.target.id !== "board" || stepQueued) return;
    stepQueued = true;
    requestAnimationFrame(() => { stepQueued = false; markStepInView(); });
  }, true); // scroll events do not bubble: caught on the way down

  let updateQueued = false;
  new MutationObserver(() => {
    if (updateQueued) return;
    updateQueued = true;
    queueMicrotask(() => { updateQueued = false; updateMore(); markStepInView(); });
  }).observe(document.querySelector(".board-page"), { childList: true, subtree: true });
})();
