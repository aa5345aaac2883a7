// The attempt workspace's Agent tab: the conversation stays at its end while new entries arrive
// (unless the reader scrolled up), dropped turns show on demand, and the follow-up box sends
// with Ctrl+Enter and empties once the follow-up is queued. The turns themselves are HTML the
// server renders and streams (decision 005); nothing here renders an entry.
"use strict";

Paddock.part("#conversation", (conversation, signal) => {
  const NEAR_END_PX = 40;
  let stick = true; // follow the end of the conversation

  function atEnd() {
    return conversation.scrollHeight - conversation.scrollTop - conversation.clientHeight < NEAR_END_PX;
  }

  function toEnd() {
    conversation.scrollTop = conversation.scrollHeight;
  }

  conversation.addEventListener("scroll", () => { stick = atEnd(); }, { passive: true });
  // New entries and turns: stay at the end if that is where the reader was.
  const grown = new MutationObserver(() => { if (stick) toEnd(); });
  grown.observe(conversation, { childList: true, subtree: true });
  // A hidden tab has no height: go to the end when it is shown.
  const resized = new ResizeObserver(() => { if (stick) toEnd(); });
  resized.observe(conversation);
  signal.addEventListener("abort", () => { grown.disconnect(); resized.disconnect(); });
  toEnd();

  const showDropped = document.getElementById("show-dropped");
  function syncDropped() {
    conversation.classList.toggle("show-dropped", showDropped.checked);
  }
  showDropped.addEventListener("change", syncDropped);
  syncDropped(); // a browser may restore the checkbox

  const form = document.getElementById("follow-up-form");
  const prompt = document.getElementById("follow-up-prompt");
  prompt.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.elt !== form || !event.detail.successful) return;
    form.reset();
    stick = true;
    toEnd();
    prompt.focus();
  });
});
