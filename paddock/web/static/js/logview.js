// The attempt workspace's Logs tab: one process's log, streamed live over server-sent events and
// shown in a virtual list, so a log of hundreds of thousands of lines stays responsive.
//
// Lines live in plain arrays, never in the DOM: only the rows in (and just around) the visible
// window exist as elements. A spacer gives the scroll area its full height; the rendered rows
// are moved into place with a transform. Everything that touches the DOM happens in one
// requestAnimationFrame callback, so a burst of thousands of lines costs one render.
//
// Known limit: browsers cap an element's height (Chromium at ~33.5 million px), so past about
// 1.8 million rows the spacer stops growing and the very end of such a log cannot be reached
// by scrolling; the download link still has all of it.
"use strict";

Paddock.part("#logview", (view, signal) => {
  const ROW_HEIGHT = 18; // px; every row has exactly this height (CSS reads it as --log-row)
  const OVERSCAN = 20; // rows rendered above and below the window, so fast scrolls show no gaps
  const PAGE_SIZE = 10000; // lines per page of the stored log (the API's maximum)
  const STATUS_EVERY_MS = 1000; // #log-status is aria-live: while streaming, update it at most this often
  const STREAMS = ["stdout", "stderr", "system"];
  const STREAM_CODE = { stdout: 0, stderr: 1, system: 2 };

  const controls = {
    stdout: document.getElementById("log-stdout"),
    stderr: document.getElementById("log-stderr"),
    system: document.getElementById("log-system"),
    search: document.getElementById("log-search"),
    follow: document.getElementById("log-autoscroll"),
    download: document.getElementById("log-download"),
    status: document.getElementById("log-status"),
  };
  const numberFormat = new Intl.NumberFormat(document.documentElement.lang || undefined);

  // ---- state ------------------------------------------------------------------------------

  const state = {
    processId: "",
    chosenByUser: false, // once the user picks a process, new processes never take the view away
    source: null, // the EventSource of the shown process
    backlog: null, // the AbortController of the page requests for the stored log
    loading: false, // the stored log is being fetched
    end: null, // the `end` event's data once the log is complete
    failed: false, // the stream could not be opened at all
    // The log, one entry per line, in seq order (parallel arrays keep 100k lines cheap).
    seqs: [],
    streams: [], // STREAM_CODE values
    texts: [], // as received, ANSI escapes included
    plains: [], // the text a reader sees: escapes removed (the same string when there are none)
    lastSeq: 0,
    pending: [], // lines received since the last frame
    // The filter, and the indexes (into the arrays above) of the lines it shows; null = all.
    filter: { streams: [true, true, true], matcher: null, query: "" },
    shown: null,
    follow: true,
    expectedScrollTop: null, // a scrollTop we set ourselves: its scroll event is not the user's
    rendered: "", // the key of what the rows show now, to skip identical renders
    statusShownAt: 0,
  };

  // ---- DOM scaffolding ----------------------------------------------------------------------

  const spacer = element("div", "log-spacer");
  const rows = element("div", "log-rows");
  const empty = element("p", "log-empty muted");
  spacer.setAttribute("aria-hidden", "true");
  rows.setAttribute("role", "list");
  view.replaceChildren(spacer, rows, empty);
  view.style.setProperty("--log-row", `${ROW_HEIGHT}px`);

  function element(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  // ---- ANSI colours ---------------------------------------------------------------------------

  // CSI sequences (ESC [ params final), OSC sequences (ESC ] ... BEL or ESC \), escapes with
  // intermediates (ESC ( B, which `tput sgr0` prints), other two-byte escapes or a lone ESC, and
  // the remaining C0 control characters except tab. Only SGR (CSI ... m) is kept, as colour;
  // everything else is dropped so no raw escape ever reaches the page.
  const ESCAPES = /\x1b\[([0-9;:?<=>]*)[ -\/]*([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[ -\/]+[0-~]|\x1b[0-~]?|[\x00-\x08\x0b-\x1f\x7f]/g;

  function stripEscapes(text) {
    return text.indexOf("\x1b") === -1 && !/[\x00-\x08\x0b-\x1f\x7f]/.test(text) ? text : text.replace(ESCAPES, "");
  }

  // Applies the parameters of one SGR sequence to a style {fg, bold}.
  function applySgr(style, params) {
    const codes = params === "" ? [0] : params.split(/[;:]/).map((p) => (p === "" ? 0 : Number(p)));
    for (let i = 0; i < codes.length; i++) {
      const code = codes[i];
      if (code === 0) { style.fg = null; style.bold = false; }
      else if (code === 1) style.bold = true;
      else if (code === 22) style.bold = false;
      else if (code === 39) style.fg = null;
      else if ((code >= 30 && code <= 37) || (code >= 90 && code <= 97)) style.fg = code;
      // 256-colour and true-colour forms carry their own numbers: skip them, so that e.g. the
      // "1" of 38;5;1 is not read as bold. These colours themselves are not rendered.
      else if (code === 38 || code === 48) i += codes[i + 1] === 5 ? 2 : codes[i + 1] === 2 ? 4 : 1;
    }
  }

  // The visible text of a line as runs of one style: [{text, fg, bold}].
  function ansiRuns(text) {
    if (text.indexOf("\x1b") === -1) return [{ text: stripEscapes(text), fg: null, bold: false }];
    const runs = [];
    const style = { fg: null, bold: false };
    let at = 0;
    const push = (part) => { if (part) runs.push({ text: part, fg: style.fg, bold: style.bold }); };
    ESCAPES.lastIndex = 0;
    for (let m = ESCAPES.exec(text); m; m = ESCAPES.exec(text)) {
      push(text.slice(at, m.index));
      if (m[2] === "m") applySgr(style, m[1]);
      at = ESCAPES.lastIndex;
    }
    push(text.slice(at));
    return runs;
  }

  // ---- search ---------------------------------------------------------------------------------

  function makeMatcher(query) {
    if (!query) return null;
    return new RegExp(query.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "i");
  }

  // [start, end) ranges of the query in the visible text, found case-insensitively.
  function matchRanges(plain, matcher) {
    if (!matcher) return [];
    const global = new RegExp(matcher.source, "gi");
    const ranges = [];
    for (let m = global.exec(plain); m; m = global.exec(plain)) {
      if (m[0].length === 0) { global.lastIndex++; continue; }
      ranges.push([m.index, m.index + m[0].length]);
    }
    return ranges;
  }

  // ---- rows -----------------------------------------------------------------------------------

  // One row as DOM nodes. Log text only ever becomes text nodes: never innerHTML.
  function renderRow(index) {
    const stream = STREAMS[state.streams[index]];
    const row = element("div", `log-row log-${stream}`);
    row.setAttribute("role", "listitem");
    row.dataset.seq = state.seqs[index];
    row.appendChild(element("span", "log-seq", String(state.seqs[index])));
    const text = element("span", "log-text");
    appendStyled(text, ansiRuns(state.texts[index]), matchRanges(state.plains[index], state.filter.matcher));
    row.appendChild(text);
    return row;
  }

  // Appends the runs to `parent`, each as a span when styled, with the match ranges wrapped in
  // <mark>; a match may span several runs and a run several matches.
  function appendStyled(parent, runs, ranges) {
    let offset = 0; // position of the current run in the visible text
    let r = 0;
    for (const run of runs) {
      const target = run.fg || run.bold ? parent.appendChild(element("span", styleClass(run))) : parent;
      const runEnd = offset + run.text.length;
      let at = offset;
      while (at < runEnd) {
        while (r < ranges.length && ranges[r][1] <= at) r++;
        const range = ranges[r];
        if (!range || range[0] >= runEnd) { target.append(run.text.slice(at - offset)); break; }
        if (range[0] > at) { target.append(run.text.slice(at - offset, range[0] - offset)); at = range[0]; }
        const stop = Math.min(range[1], runEnd);
        target.appendChild(element("mark", "log-match", run.text.slice(at - offset, stop - offset)));
        at = stop;
      }
      offset = runEnd;
    }
  }

  function styleClass(run) {
    const names = [];
    if (run.fg) names.push(`ansi-${run.fg}`);
    if (run.bold) names.push("ansi-bold");
    return names.join(" ");
  }

  // ---- the visible window ---------------------------------------------------------------------

  function shownCount() {
    return state.shown ? state.shown.length : state.seqs.length;
  }

  function lineAt(position) {
    return state.shown ? state.shown[position] : position;
  }

  function maxScrollTop() {
    return Math.max(0, shownCount() * ROW_HEIGHT - view.clientHeight);
  }

  // Scrolls on our own account. The scroll event this causes (also the one of a browser that
  // clamped scrollTop because the content shrank) must not be taken for the user's.
  function setScrollTop(top) {
    const clamped = Math.min(Math.max(0, top), maxScrollTop());
    state.expectedScrollTop = clamped;
    if (Math.abs(view.scrollTop - clamped) >= 1) view.scrollTop = clamped;
  }

  // Renders the rows of the visible window, if they changed since the last render.
  function renderWindow() {
    const count = shownCount();
    spacer.style.height = `${count * ROW_HEIGHT}px`;
    if (state.follow) setScrollTop(maxScrollTop());
    const first = Math.max(0, Math.floor(view.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(count, Math.ceil((view.scrollTop + view.clientHeight) / ROW_HEIGHT) + OVERSCAN);
    const key = `${state.processId}|${first}|${last}|${count}|${state.filter.query}|${state.filter.streams}`;
    if (key !== state.rendered) {
      state.rendered = key;
      const fragment = document.createDocumentFragment();
      for (let position = first; position < last; position++) fragment.appendChild(renderRow(lineAt(position)));
      rows.replaceChildren(fragment);
      rows.style.transform = `translateY(${first * ROW_HEIGHT}px)`;
    }
    // The seq gutter is as wide as the largest seq.
    const gutter = `${Math.max(3, String(state.lastSeq).length)}ch`;
    if (view.style.getPropertyValue("--log-gutter") !== gutter) view.style.setProperty("--log-gutter", gutter);
    renderEmptyState(count);
  }

  function renderEmptyState(count) {
    let message = "";
    if (!state.processId) message = "No process yet.";
    else if (state.failed) message = "The log could not be loaded.";
    else if (state.seqs.length === 0 && state.loading) message = "Loading the log…";
    else if (state.seqs.length === 0) message = state.end ? "This process printed nothing." : "Waiting for output…";
    else if (count === 0) message = "No line matches the filter.";
    empty.textContent = message;
    empty.hidden = !message;
  }

  let statusTimer = 0;

  function renderStatus(force) {
    const now = performance.now();
    const wait = STATUS_EVERY_MS - (now - state.statusShownAt);
    if (!force && !state.end && wait > 0) {
      // Too soon: show it a little later, so a log that goes quiet still shows its last count.
      if (!statusTimer) statusTimer = setTimeout(() => { statusTimer = 0; scheduleFrame(true); }, wait);
      return;
    }
    state.statusShownAt = now;
    if (!state.processId) { controls.status.textContent = ""; return; }
    const total = state.seqs.length;
    const lines = `${numberFormat.format(total)} ${total === 1 ? "line" : "lines"}`;
    const counted = state.shown ? `${numberFormat.format(state.shown.length)} of ${lines}` : lines;
    controls.status.textContent = `${counted} · ${describeState()}`;
  }

  function describeState() {
    const end = state.end;
    if (state.failed) return "not available";
    if (state.loading) return "loading…";
    if (!end) return processStatus() === "queued" ? "queued" : "running";
    if (end.exit_code === null || end.exit_code === undefined) return end.status;
    if (end.status === "stopped") return "stopped";  // someone stopped it: not a failure
    if (end.exit_code < 0) return `killed by signal ${-end.exit_code}`;
    return `exited ${end.exit_code}`;
  }

  // ---- frames ---------------------------------------------------------------------------------

  let frameRequested = false;
  let statusForced = false;

  function scheduleFrame(forceStatus) {
    statusForced = statusForced || Boolean(forceStatus);
    if (frameRequested) return;
    frameRequested = true;
    requestAnimationFrame(frame);
  }

  function frame() {
    frameRequested = false;
    appendPending();
    renderWindow();
    renderStatus(statusForced);
    statusForced = false;
  }

  // Moves the lines received since the last frame into the log, extending the filtered index
  // incrementally instead of recomputing it.
  function appendPending() {
    const batch = state.pending;
    if (batch.length === 0) return;
    state.pending = [];
    for (const line of batch) {
      const index = state.seqs.length;
      state.seqs.push(line.seq);
      state.streams.push(line.stream);
      state.texts.push(line.text);
      state.plains.push(stripEscapes(line.text));
      if (state.shown && passesFilter(index)) state.shown.push(index);
    }
  }

  // ---- filtering ------------------------------------------------------------------------------

  function passesFilter(index) {
    const filter = state.filter;
    return filter.streams[state.streams[index]] && (!filter.matcher || filter.matcher.test(state.plains[index]));
  }

  function readFilter() {
    const query = controls.search.value;
    return {
      streams: [controls.stdout.checked, controls.stderr.checked, controls.system.checked],
      matcher: makeMatcher(query),
      query,
    };
  }

  // Recomputes the shown lines; the line at the top of the window stays in view when it still
  // passes (else the next one that does), unless the view follows the end.
  function applyFilter() {
    appendPending();
    const anchor = shownCount() ? lineAt(Math.min(shownCount() - 1, Math.floor(view.scrollTop / ROW_HEIGHT))) : 0;
    state.filter = readFilter();
    const filter = state.filter;
    const everything = filter.streams.every(Boolean) && !filter.matcher;
    if (everything) {
      state.shown = null;
    } else {
      const shown = [];
      for (let i = 0; i < state.seqs.length; i++) if (passesFilter(i)) shown.push(i);
      state.shown = shown;
    }
    spacer.style.height = `${shownCount() * ROW_HEIGHT}px`;
    if (!state.follow) setScrollTop(positionOf(anchor) * ROW_HEIGHT);
    scheduleFrame(true);
  }

  // The position in the shown lines of `index`, or of the first shown line after it.
  function positionOf(index) {
    if (!state.shown) return index;
    let lo = 0;
    let hi = state.shown.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (state.shown[mid] < index) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  // ---- the stream -----------------------------------------------------------------------------
  //
  // What is already stored is fetched by pages of the JSON API first, then the EventSource
  // follows from the last of those lines (?after=seq). Both end up in the same place, but
  // Chromium spends ~70 µs on every EventSource event: a finished 100k-line log took ~7 s to
  // replay through it, and takes well under a second by pages. From there on EventSource does
  // what it is good at: live lines, and reconnecting with Last-Event-ID by itself.

  function resetLog() {
    state.seqs = [];
    state.streams = [];
    state.texts = [];
    state.plains = [];
    state.pending = [];
    state.lastSeq = 0;
    state.end = null;
    state.failed = false;
    state.loading = false;
    state.shown = state.shown ? [] : null;
    state.rendered = "";
  }

  function closeStream() {
    if (state.backlog) {
      state.backlog.abort();
      state.backlog = null;
    }
    if (state.source) {
      state.source.close();
      state.source = null;
    }
  }

  // Takes one line of either source. After a reconnect the server replays from Last-Event-ID,
  // and the stream may repeat the last page's lines: a seq already held is never kept twice.
  function receive(line) {
    if (line.seq <= state.lastSeq) return;
    state.lastSeq = line.seq;
    // A line with `continued: true` is the first part of a line cut at the server's length
    // limit; the next line carries the rest. Each part is shown as a row of its own.
    state.pending.push({ seq: line.seq, stream: STREAM_CODE[line.stream] ?? 0, text: line.text });
  }

  function followLog(processId) {
    const control = new AbortController();
    state.backlog = control;
    state.loading = true;
    loadBacklog(processId, control.signal)
      .catch((error) => {
        // Whatever the pages missed, the stream replays (it starts after the last seq held).
        if (control.signal.aborted) return "aborted";
        console.warn("Paddock: loading the stored log failed; streaming it instead", error);
        return "stream";
      })
      .then((outcome) => {
        if (outcome === "aborted" || control.signal.aborted) return;
        state.backlog = null;
        state.loading = false;
        openStream(processId);
        scheduleFrame(true);
      });
  }

  async function loadBacklog(processId, signal) {
    const base = `/api/processes/${encodeURIComponent(processId)}/logs`;
    for (;;) {
      const response = await fetch(`${base}?after=${state.lastSeq}&limit=${PAGE_SIZE}`, { signal });
      if (response.status === 404) throw new Error("unknown process");
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const page = await response.json();
      if (signal.aborted) return "aborted";
      for (const line of page.lines) receive(line);
      scheduleFrame(false);
      if (page.lines.length < PAGE_SIZE) return "stream";
    }
  }

  // A `lines` event: consecutive lines from first_seq on; its runs give, in order, the stream
  // of each stretch of them.
  function receiveBatch(batch) {
    let seq = batch.first_seq;
    let index = 0;
    for (const run of batch.runs) {
      for (const end = index + run.count; index < end; index++, seq++) {
        receive({ seq, stream: run.stream, text: batch.texts[index] });
      }
    }
  }

  function openStream(processId) {
    // ?batch=true: one `lines` event per batch of lines, not a `log` event per line (the
    // server writes a fifth of the bytes, and the browser handles one event, not thousands).
    const id = encodeURIComponent(processId);
    const url = `/api/processes/${id}/logs/stream?batch=true&after=${state.lastSeq}`;
    const source = new EventSource(url);
    state.source = source;
    source.addEventListener("lines", (event) => {
      if (source !== state.source) return;
      receiveBatch(JSON.parse(event.data));
      scheduleFrame(false);
    });
    source.addEventListener("end", (event) => {
      if (source !== state.source) return;
      state.end = JSON.parse(event.data);
      closeStream(); // the log is complete: no reconnect
      scheduleFrame(true);
    });
    source.addEventListener("error", () => {
      // While the stream is OPEN or CONNECTING, EventSource reconnects by itself (and resumes
      // with Last-Event-ID, which the server prefers to ?after=). CLOSED means the server
      // refused it, e.g. an unknown process.
      if (source !== state.source || source.readyState !== EventSource.CLOSED) return;
      state.failed = true;
      closeStream();
      scheduleFrame(true);
    });
  }

  // ---- choosing a process ---------------------------------------------------------------------

  function processButtons() {
    return [...document.querySelectorAll("#process-list .process-pick[data-process-id]")];
  }

  function processStatus() {
    const button = processButtons().find((b) => b.dataset.processId === state.processId);
    return button ? button.dataset.status || "" : "";
  }

  function selectProcess(processId, byUser) {
    if (byUser) state.chosenByUser = true;
    markPressed(processId);
    if (processId === state.processId) return;
    closeStream();
    state.processId = processId;
    view.dataset.processId = processId;
    resetLog();
    state.follow = controls.follow.checked = true;
    view.scrollTop = 0;
    updateDownload();
    if (processId) followLog(processId);
    scheduleFrame(true);
  }

  function markPressed(processId) {
    for (const button of processButtons()) {
      button.setAttribute("aria-pressed", String(button.dataset.processId === processId));
    }
  }

  function updateDownload() {
    const link = controls.download;
    if (state.processId) {
      link.href = `/api/processes/${encodeURIComponent(state.processId)}/logs/download`;
      link.removeAttribute("aria-disabled");
    } else {
      link.removeAttribute("href");
      link.setAttribute("aria-disabled", "true");
    }
  }

  // The server's rule for the log shown first: the newest agent turn (its first prompt or a
  // follow-up), else the newest process.
  const TURN_REASONS = ["agent", "follow_up"];
  function defaultProcess(buttons) {
    const agents = buttons.filter((b) => TURN_REASONS.includes(b.dataset.reason));
    const pick = (agents.length ? agents : buttons).at(-1);
    return pick ? pick.dataset.processId : "";
  }

  // After the list was re-rendered by the live stream: keep the selection pressed, give focus
  // back to the button that had it, and while the user has not chosen a process, follow the
  // server's rule (so the agent's log replaces the setup log once the agent starts).
  let refocusPick = ""; // the process whose button had the focus when the list was replaced

  function rememberFocus(event) {
    const active = document.activeElement;
    const target = event.detail && event.detail.target;
    if (target && target.id === "process-list" && active && target.contains(active) && active.matches(".process-pick")) {
      refocusPick = active.dataset.processId;
    }
  }

  function syncProcessList() {
    const buttons = processButtons();
    if (!state.chosenByUser && buttons.length) {
      const wanted = defaultProcess(buttons);
      if (wanted !== state.processId) selectProcess(wanted, false);
    }
    markPressed(state.processId);
    if (refocusPick) {
      const button = buttons.find((b) => b.dataset.processId === refocusPick);
      if (button) button.focus();
      refocusPick = "";
    }
    scheduleFrame(false); // the process's status may have changed
  }

  let syncQueued = false;
  function queueSync() {
    if (syncQueued) return;
    syncQueued = true;
    queueMicrotask(() => { syncQueued = false; syncProcessList(); });
  }

  // ---- events ---------------------------------------------------------------------------------

  function onScroll() {
    if (state.expectedScrollTop !== null && Math.abs(view.scrollTop - state.expectedScrollTop) < 1) {
      state.expectedScrollTop = null; // our own scroll: it says nothing about the user's wish
    } else {
      // The user scrolled: following the end is on exactly when they are at the end.
      state.expectedScrollTop = null;
      const atEnd = view.scrollTop >= maxScrollTop() - ROW_HEIGHT / 2;
      if (atEnd !== state.follow) state.follow = controls.follow.checked = atEnd;
    }
    scheduleFrame(false);
  }

  const KEY_SCROLLS = {
    PageUp: () => view.scrollTop - Math.max(ROW_HEIGHT, view.clientHeight - ROW_HEIGHT),
    PageDown: () => view.scrollTop + Math.max(ROW_HEIGHT, view.clientHeight - ROW_HEIGHT),
    ArrowUp: () => view.scrollTop - ROW_HEIGHT,
    ArrowDown: () => view.scrollTop + ROW_HEIGHT,
    Home: () => 0,
    End: () => maxScrollTop(),
  };

  function onKeydown(event) {
    const target = KEY_SCROLLS[event.key];
    if (!target || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    // Set directly (not through setScrollTop): the scroll event then counts as the user's.
    view.scrollTop = Math.min(Math.max(0, target()), maxScrollTop());
  }

  function onFollowToggle() {
    state.follow = controls.follow.checked;
    if (state.follow) setScrollTop(maxScrollTop());
    scheduleFrame(false);
  }

  let filterQueued = false;

  function onFilterInput() {
    // Typing fires many events: recompute once per frame at most.
    if (filterQueued) return;
    filterQueued = true;
    requestAnimationFrame(() => { filterQueued = false; applyFilter(); });
  }

  view.addEventListener("scroll", onScroll, { passive: true });
  view.addEventListener("keydown", onKeydown);
  controls.follow.addEventListener("change", onFollowToggle);
  for (const name of ["stdout", "stderr", "system"]) controls[name].addEventListener("change", applyFilter);
  controls.search.addEventListener("input", onFilterInput);

  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("#process-list .process-pick");
    if (button) selectProcess(button.dataset.processId, true);
  }, { signal });
  document.addEventListener("htmx:oobBeforeSwap", rememberFocus, { signal });
  document.addEventListener("htmx:oobAfterSwap", queueSync, { signal });
  document.addEventListener("htmx:load", queueSync, { signal });
  // A hidden tab has no height; the window must be rendered again when it is shown or resized.
  const resized = new ResizeObserver(() => scheduleFrame(false));
  resized.observe(view);
  // The workspace left the page (the side panel closed or showed something else).
  signal.addEventListener("abort", () => { closeStream(); resized.disconnect(); });

  // ---- start ----------------------------------------------------------------------------------

  const filter = readFilter();
  if (!filter.streams.every(Boolean) || filter.matcher) applyFilter(); // a browser restored the form
  state.follow = controls.follow.checked;
  updateDownload();
  selectProcess(view.dataset.processId || "", false);
  syncProcessList();
});
