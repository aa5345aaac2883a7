// The workflow manager: steps reordered by drag and drop (SortableJS, by the handle) or by
// their ↑/↓ buttons, each order sent to the steps API; field errors shown beside their field;
// the agent picker shows the command field only for the script agent.
"use strict";

(function () {
  const page = () => document.querySelector(".workflow-page");
  const projectId = () => page().dataset.projectId;
  const list = () => document.getElementById("step-list");
  const steps = () => [...list().querySelectorAll(":scope > .step")];

  function announce(text) {
    const status = document.getElementById("workflow-status");
    if (status) status.textContent = text;
  }

  function nameOf(step) {
    return step.querySelector(".step-title").textContent.trim();
  }

  function syncMoveButtons() {
    const all = steps();
    all.forEach((step, i) => {
      step.querySelector('[data-move="up"]').disabled = i === 0;
      step.querySelector('[data-move="down"]').disabled = i === all.length - 1;
    });
  }

  function reloadList() {
    htmx.ajax("GET", `/ui/projects/${projectId()}/steps`, { target: "#step-list", swap: "outerHTML" });
  }

  async function sendOrder() {
    syncMoveButtons();
    const ids = steps().map((step) => step.dataset.stepId);
    let response;
    try {
      response = await fetch(`/api/projects/${projectId()}/steps/reorder`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ step_ids: ids }),
      });
    } catch (_) {
      Paddock.toast("The Paddock server cannot be reached. Is it running?");
      reloadList();
      return false;
    }
    if (!response.ok) {
      const fake = { status: response.status, statusText: response.statusText, responseText: await response.text() };
      Paddock.toast(`Could not reorder the steps: ${Paddock.describeError(fake).text}`);
      reloadList();
      return false;
    }
    return true;
  }

  async function moveStep(button) {
    const step = button.closest(".step");
    const up = button.dataset.move === "up";
    const sibling = up ? step.previousElementSibling : step.nextElementSibling;
    if (!sibling) return;
    list().insertBefore(step, up ? sibling : sibling.nextElementSibling);
    syncMoveButtons();
    // At the top (or bottom) now: the focus goes to the other button, which still works.
    (button.disabled ? step.querySelector(`[data-move="${up ? "down" : "up"}"]`) : button).focus();
    if (await sendOrder()) {
      const position = steps().indexOf(step) + 1;
      announce(`${nameOf(step)} moved to position ${position} of ${steps().length}`);
    }
  }

  function makeSortable(el) {
    if (el.dataset.sortable) return;
    el.dataset.sortable = "1";
    Sortable.create(el, {
      animation: 120,
      handle: ".step-handle",
      draggable: ".step",
      onEnd(event) {
        if (event.oldIndex === event.newIndex) return;
        sendOrder().then((ok) => ok && announce(`${nameOf(event.item)} moved to position ${event.newIndex + 1}`));
      },
    });
  }

  function syncAgent(select) {
    const option = select.selectedOptions[0];
    const field = select.form.querySelector(".script-only");
    if (field) field.hidden = !(option && option.hasAttribute("data-needs-command"));
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest(".workflow-page [data-move]");
    if (button) moveStep(button);
  });
  document.addEventListener("change", (event) => {
    if (event.target.matches("[data-step-agent]")) syncAgent(event.target);
  });

  // An error about one field is also shown beside that field (app.js puts it in the form's
  // .form-error, marks the field invalid and focuses it).
  document.addEventListener("htmx:responseError", (event) => {
    const form = event.detail.elt.closest(".workflow-page form");
    if (!form) return;
    const { text, field } = Paddock.describeError(event.detail.xhr);
    const slot = field && form.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
    if (!slot) return;
    slot.textContent = text;
    slot.setAttribute("role", "alert");
    const input = form.elements.namedItem(field);
    if (input && input.setAttribute) input.setAttribute("aria-errormessage", slot.id);
    const general = form.querySelector(".form-error");
    if (general) general.textContent = ""; // said once, beside the field
  });
  document.addEventListener("htmx:beforeRequest", (event) => {
    const form = event.detail.elt.closest(".workflow-page form");
    if (!form) return;
    for (const slot of form.querySelectorAll("[data-error-for]")) slot.textContent = "";
    const saved = form.querySelector(".saved");
    if (saved) saved.textContent = "";
  });

  document.body.addEventListener("stepAdded", () => {
    const form = document.getElementById("add-step");
    const color = form.elements.namedItem("color").value;
    form.reset();
    form.elements.namedItem("color").value = color;
    document.getElementById("add-step-name").focus();
    const added = document.querySelector(".step[data-added] .step-title");
    if (added) announce(`Step ${added.textContent.trim()} added`);
  });

  htmx.onLoad((root) => {
    if (!page()) return;
    const el = root.id === "step-list" ? root : root.querySelector && root.querySelector("#step-list");
    if (el) {
      makeSortable(el);
      syncMoveButtons();
    }
  });
})();
