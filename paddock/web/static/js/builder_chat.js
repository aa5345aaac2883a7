// The builder's floating chat (templates/builder/_chat.html; the API is /api/apps/{id}/chat,
// behind the `builder_chat` feature flag).
//
// The round button opens a non-modal dialog; focus moves into it and back to the button when
// it closes (Escape, or Close). The first opening asks for the app's snapshot (POST
// /chat/open) — once a page, not per message. A message is POSTed to /chat/messages; its
// reply may carry a link (shown) and a proposed action, shown with its question, its button
// and Cancel: nothing runs until the founder presses the button (POST /chat/actions). The
// action's answer says what happened; its link is then followed (the page's parts it changed
// come back with a load of the page at that link). Nothing of the conversation is stored.
//
// The requests are same-origin fetches: the session cookie signs them in, and the browser's
// Origin header proves they come from this page (web/access.py).
"use strict";

(() => {
  const root = document.getElementById("chat");
  if (!root) return;
  const appId = root.dataset.appId;
  const opener = document.getElementById("chat-open");
  const panel = document.getElementById("chat-panel");
  const list = document.getElementById("chat-messages");
  const form = document.getElementById("chat-form");
  const input = document.getElementById("chat-input");
  const base = `/api/apps/${encodeURIComponent(appId)}/chat`;
  let snapshot = null; // the app as the chat knows it (ChatContextPublic)
  let opening = null;

  async function post(path, body) {
    const response = await fetch(base + path, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body || {}),
    });
    if (!response.ok) {
      throw Paddock.describeError({ status: response.status, statusText: response.statusText, responseText: await response.text() });
    }
    return response.json();
  }

  function say(who, text) {
    const item = document.createElement("li");
    item.className = `chat-message ${who}`;
    const name = document.createElement("span");
    name.className = "visually-hidden";
    name.textContent = who === "me" ? "You: " : "Paddock: ";
    const words = document.createElement("span");
    words.className = "chat-text";
    words.textContent = text;
    item.append(name, words);
    list.append(item);
    list.scrollTop = list.scrollHeight;
    return item;
  }

  function failed(error) {
    say("error", error && error.text ? error.text : "The Paddock server cannot be reached. Is it running?");
  }

  // A link of the app's own page is followed in place; another address (a preview) in a tab.
  function linkTo(item, link) {
    const anchor = document.createElement("a");
    anchor.href = link;
    anchor.className = "chat-link";
    anchor.textContent = "Open";
    if (new URL(link, location.href).origin !== location.origin) {
      anchor.target = "_blank";
      anchor.rel = "noopener";
    }
    item.append(" ", anchor);
  }

  function follow(link) {
    const target = new URL(link, location.href);
    if (target.origin !== location.origin) {
      window.open(target.href, "_blank", "noopener");
      return;
    }
    history.replaceState(null, "", target.pathname + target.search + target.hash);
    location.reload();
  }

  function propose(item, action) {
    const box = document.createElement("div");
    box.className = "chat-action";
    const question = document.createElement("p");
    question.textContent = action.confirm || "Do it?";
    const yes = document.createElement("button");
    yes.type = "button";
    yes.className = "primary small-button";
    yes.textContent = action.label;
    const no = document.createElement("button");
    no.type = "button";
    no.className = "ghost small-button";
    no.textContent = "Cancel";
    box.append(question, yes, " ", no);
    item.append(box);
    yes.focus();
    no.addEventListener("click", () => {
      box.remove();
      say("paddock", "Fine, nothing was done.");
      input.focus();
    });
    yes.addEventListener("click", async () => {
      yes.disabled = no.disabled = true;
      try {
        const done = await post("/actions", { kind: action.kind, params: action.params || {} });
        snapshot = done.context;
        box.remove();
        say("paddock", done.text);
        if (done.link) follow(done.link);
      } catch (error) {
        yes.disabled = no.disabled = false;
        failed(error);
      }
    });
  }

  async function open() {
    panel.hidden = false;
    opener.setAttribute("aria-expanded", "true");
    input.focus();
    if (snapshot || opening) return;
    opening = post("/open")
      .then((context) => {
        snapshot = context;
        say("paddock", `Ask me anything about ${context.app_name || "your app"}: what's next, what's blocking a deploy, or a change you want.`);
      })
      .catch(failed)
      .finally(() => { opening = null; });
  }

  function close() {
    panel.hidden = true;
    opener.setAttribute("aria-expanded", "false");
    opener.focus();
  }

  opener.addEventListener("click", () => (panel.hidden ? open() : close()));
  panel.querySelector("[data-chat-close]").addEventListener("click", close);
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const message = input.value.trim();
    if (!message) return;
    input.value = "";
    say("me", message);
    if (opening) await opening;
    try {
      const reply = await post("/messages", { message });
      const item = say("paddock", reply.text);
      if (reply.link && !reply.action) linkTo(item, reply.link);
      if (reply.action) propose(item, reply.action);
    } catch (error) {
      failed(error);
    }
  });
})();
