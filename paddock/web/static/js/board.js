// The board: drag and drop (SortableJS) and keyboard moves call the task API; the board's live
// stream then puts every card where the server says it is.
"use strict";

(function () {
  let focusAfterMove = null; // a task id to focus again once the stream re-renders its card

  async function moveTask(taskId, stepId, below) {
    const response = await fetch(`/api/tasks/${taskId}`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ step_id: stepId, below: below || "" }),
    });
    if (!response.ok) {
      const fake = { status: response.status, statusText: response.statusText, responseText: await response.text() };
      Paddock.toast(`Could not move the card: ${Paddock.describeError(fake).text}`);
      reloadBoard();
    }
  }

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
      onEnd(event) {
        const card = event.item;
        if (event.from === event.to && event.oldIndex === event.newIndex) return;
        const above = previousCard(card);
        moveTask(card.dataset.taskId, event.to.dataset.stepId, above ? above.dataset.taskId : "");
      },
    });
  }

  htmx.onLoad((root) => {
    const lists = root.matches && root.matches(".cards") ? [root] : root.querySelectorAll(".cards");
    for (const list of lists) makeSortable(list);
    if (focusAfterMove) {
      const card = document.getElementById(`card-${focusAfterMove}`);
      if (card) { card.focus(); focusAfterMove = null; }
    }
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

  document.addEventListener("click", (event) => {
    const form = document.getElementById("new-task");
    const opener = document.querySelector("[data-open-new-task]");
    if (event.target.closest("[data-open-new-task]")) {
      form.hidden = !form.hidden;
      opener.setAttribute("aria-expanded", String(!form.hidden));
      if (!form.hidden) document.getElementById("new-task-title").focus();
    } else if (event.target.closest("[data-close-new-task]")) {
      form.hidden = true;
      opener.setAttribute("aria-expanded", "false");
    }
  });
  document.body.addEventListener("taskCreated", () => {
    const form = document.getElementById("new-task");
    form.reset();
    document.getElementById("new-task-title").focus();
  });
})();
