// The vns-sdk inspector: the app's events, as they happen, from its event stream (`events`).
//
// Each record is an observation's beginning or end (see vns_sdk/_observe/_feed.py): a webhook, a tool run, a
// handler, a store operation. Records name their parent, so a webhook's row gathers what ran inside it.
// Everything shown is set as text (never as HTML): the values come from callers and tools.
"use strict";

(() => {
  const nodes = new Map(); // oid -> {oid, record, children: [oid]}
  const rows = new Map(); // top-level oid -> <details>
  const calls = new Map(); // sessionGuid -> {guid, caller, called, at, ended, tools}
  const toolNames = new Set();
  const dirty = new Set();
  let frame = 0;
  const filters = { call: "", tool: "" };

  const $ = (id) => document.getElementById(id);
  const el = (tag, props = {}, ...children) => {
    const element = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (key === "class") element.className = value;
      else if (key === "dataset") Object.assign(element.dataset, value);
      else if (key === "onclick") element.addEventListener("click", value);
      else element.setAttribute(key, value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) element.append(child);
    }
    return element;
  };

  // -- the records ------------------------------------------------------------------------------------------

  function nodeOf(oid) {
    let node = nodes.get(oid);
    if (!node) {
      node = { oid, record: null, children: [] };
      nodes.set(oid, node);
    }
    return node;
  }

  function topOf(node) {
    let current = node;
    while (current.record && current.record.parent !== null && current.record.parent !== undefined) {
      current = nodeOf(current.record.parent);
    }
    return current;
  }

  function sessionOf(node) {
    if (node.record && node.record.session) return node.record.session;
    for (const oid of node.children) {
      const child = nodes.get(oid);
      if (child && child.record && child.record.session) return child.record.session;
    }
    return null;
  }

  function toolOf(node) {
    if (node.record && node.record.tool) return node.record.tool;
    for (const oid of node.children) {
      const child = nodes.get(oid);
      if (child && child.record && child.record.kind === "tool") return child.record.tool;
    }
    return null;
  }

  function receive(record) {
    // A webhook's end record holds the end records of what ran inside it.
    const { children, ...own } = record;
    for (const child of children || []) receive(child);
    record = own;
    const node = nodeOf(record.oid);
    // An end record completes its beginning; a value it lacks (null) keeps what the beginning said.
    const merged = Object.assign({}, node.record || {});
    for (const [key, value] of Object.entries(record)) {
      if (value !== null || !(key in merged)) merged[key] = value;
    }
    node.record = merged;
    if (record.parent !== null && record.parent !== undefined) {
      const parent = nodeOf(record.parent);
      if (!parent.children.includes(record.oid)) parent.children.push(record.oid);
    }
    const top = topOf(node);
    const session = sessionOf(top);
    const tool = toolOf(top);
    if (tool && top.record && top.record.kind === "webhook") toolNames.add(tool);
    if (top.record && top.record.kind === "webhook" && session) noteCall(top, session, tool);
    dirty.add(top.oid);
    if (!frame) frame = requestAnimationFrame(flush);
  }

  function noteCall(top, session, tool) {
    const record = top.record;
    let call = calls.get(session);
    if (!call) {
      call = { guid: session, caller: null, called: null, at: record.at, ended: false, tools: 0, counted: new Set() };
      calls.set(session, call);
    }
    if (record.name === "call-start" && record.request && typeof record.request === "object") {
      call.caller = record.request.callerIdName
        ? `${record.request.callerIdName} (${record.request.callerId})`
        : record.request.callerId || null;
      call.called = record.request.calledNumber || null;
      call.at = record.at;
    }
    if (record.name === "call-end" && record.phase === "end" && !call.ended) {
      call.ended = true;
      // The chat panel listens: its call may have been ended by the agent, or for being left idle.
      document.dispatchEvent(new CustomEvent("vns:call-ended", { detail: session }));
    }
    if (record.name === "tools" && tool && !call.counted.has(top.oid)) {
      call.counted.add(top.oid);
      call.tools += 1;
    }
  }

  // -- rendering --------------------------------------------------------------------------------------------

  function flush() {
    frame = 0;
    for (const oid of dirty) renderRow(nodeOf(oid));
    dirty.clear();
    renderCalls();
    renderFilters();
    applyFilters();
  }

  const time = (at) => {
    // The page's local time, to the millisecond (records carry UTC).
    if (!at) return "";
    const when = new Date(at);
    const clock = when.toLocaleTimeString([], { hour12: false, hour: "2-digit", minute: "2-digit", second: "2-digit" });
    return `${clock}.${String(when.getMilliseconds()).padStart(3, "0")}`;
  };
  const short = (guid) => (guid ? guid.slice(0, 8) : "—");
  const ms = (value) => (typeof value === "number" ? `${value.toFixed(value < 10 ? 2 : 1)} ms` : "");
  const json = (value) => JSON.stringify(value, null, 2);

  const WARN = new Set([
    "invalid_arguments", "tool_error", "unknown_tool", "timeout", "handler_timeout", "handler_error",
    "state_not_saved", "unsendable_reply", "duplicate", "refused", "call_ended",
  ]);

  function verdict(record) {
    if (record.phase === "begin") return ["running", "running"];
    const outcome = record.outcome || record.error || (record.status >= 400 ? `HTTP ${record.status}` : "ok");
    if (record.error || record.status >= 500 || outcome === "error" || outcome === "store_unavailable") return [outcome, "bad"];
    if (record.status >= 400 || WARN.has(outcome)) return [outcome, "warn"];
    return [outcome, "ok"];
  }

  function label(record, tool) {
    if (record.kind !== "webhook") return el("span", {}, record.operation || record.handler || record.kind);
    if (record.name === "call-start") return el("span", {}, "CallStart");
    if (record.name === "call-end") return el("span", {}, "CallEnd");
    return el("span", {}, "tool ", el("span", { class: "tool" }, tool || "?"));
  }

  function section(title, value) {
    if (value === null || value === undefined) return null;
    return el("div", {}, el("h3", {}, title), el("pre", {}, typeof value === "string" ? value : json(value)));
  }

  function steps(node) {
    const items = [];
    // In the order they began (a running tool is known before the store read that came first).
    for (const oid of [...node.children].sort((a, b) => a - b)) {
      const child = nodes.get(oid);
      if (!child || !child.record) continue;
      const record = child.record;
      let what = record.kind;
      if (record.kind === "tool") what = `execute_tool ${record.tool}`;
      else if (record.kind === "handler") what = `${record.handler_phase} handler ${record.handler}`;
      else if (record.kind === "store") what = `state ${record.operation}`;
      const [outcome, tone] = record.kind === "tool" || record.error ? verdict(record) : ["", ""];
      items.push(
        el("li", {}, el("span", {}, what), outcome ? el("span", { class: `badge ${tone}` }, outcome) : null,
          el("span", { class: "ms" }, ms(record.ms))),
      );
    }
    return items.length ? el("div", {}, el("h3", {}, "Inside"), el("ul", { class: "steps" }, ...items)) : null;
  }

  function stateChanges(node) {
    const changes = [];
    for (const oid of node.children) {
      const record = (nodes.get(oid) || {}).record;
      if (!record || record.kind !== "store") continue;
      if (record.operation === "save_call") {
        changes.push({ set: record.state || {}, deleted: record.deleted || [] });
      } else if (record.operation === "start_call" && record.state && Object.keys(record.state).length) {
        changes.push({ initial: record.state });
      }
    }
    return changes.length ? section("State changes", changes.length === 1 ? changes[0] : changes) : null;
  }

  function argumentsOf(body) {
    // A tool call's body is its arguments, with VNS's wrapper naming the tool and the call beside them.
    if (!body || typeof body !== "object" || Array.isArray(body)) return body;
    const { VoiceElements_InvokeTool: _wrapper, ...arguments_ } = body;
    return arguments_;
  }

  function details(node, tool) {
    const record = node.record;
    const parts = [];
    if (record.kind === "webhook") {
      if (record.name === "tools") {
        parts.push(section("Arguments", argumentsOf(record.request)));
        parts.push(section("What the model hears", record.response));
      } else {
        parts.push(section(record.name === "call-start" ? "CallStart request" : "CallEnd report", record.request));
        parts.push(section("Answer (secrets masked)", record.response));
      }
      parts.push(stateChanges(node));
      parts.push(steps(node));
      const facts = [`${record.method || ""} ${record.path || record.route || ""}`];
      if (record.trace) facts.push(`trace ${record.trace}`);
      parts.push(el("p", { class: "note mono" }, facts.join("  ·  ")));
      const session = sessionOf(node);
      if (session) parts.push(copyButtons(session));
    } else {
      parts.push(section("Event", record));
    }
    return el("div", { class: "details" }, ...parts);
  }

  function renderRow(node) {
    const record = node.record;
    if (!record) return;
    const session = sessionOf(node);
    const tool = toolOf(node);
    const [outcome, tone] = verdict(record);
    let row = rows.get(node.oid);
    const open = row ? row.open : false;
    const fresh = el(
      "details",
      { class: "row", dataset: { oid: String(node.oid), session: session || "", tool: tool || "", kind: record.name || record.kind } },
      el(
        "summary",
        {},
        el("span", { class: "time" }, time(record.at)),
        el("span", { class: "session mono", title: session || "" }, short(session)),
        el("span", { class: "what" }, label(record, tool)),
        el("span", { class: `badge ${tone}` }, outcome),
        el("span", { class: "status" }, record.status ? String(record.status) : ""),
        el("span", { class: "ms" }, ms(record.ms)),
      ),
      details(node, tool),
    );
    fresh.open = open;
    if (row) row.replaceWith(fresh);
    else $("rows").append(fresh);
    rows.set(node.oid, fresh);
  }

  function copyButtons(guid) {
    return el(
      "div",
      { class: "copy" },
      el("button", { type: "button", class: "copy-scenario", onclick: (event) => copyCall(event, guid, "scenario") }, "Copy as scenario"),
      el("button", { type: "button", class: "copy-transcript", onclick: (event) => copyCall(event, guid, "transcript") }, "Copy as transcript"),
    );
  }

  function renderCalls() {
    const list = $("calls");
    list.replaceChildren();
    for (const call of calls.values()) {
      const item = el(
        "li",
        { class: "call", dataset: { session: call.guid }, "aria-current": String(filters.call === call.guid) },
        el("div", { class: "who" }, call.caller || "unknown caller"),
        el("div", { class: "meta" }, `to ${call.called || "?"} · ${time(call.at)} · ${call.tools} tool call${call.tools === 1 ? "" : "s"} · ${call.ended ? "ended" : "in progress"}`),
        el("div", { class: "meta mono" }, call.guid),
        copyButtons(call.guid),
      );
      item.addEventListener("click", (event) => {
        if (event.target.closest("button")) return;
        setFilter("call", filters.call === call.guid ? "" : call.guid);
      });
      list.append(item);
    }
    $("no-calls").hidden = calls.size > 0;
    const toolCalls = [...calls.values()].reduce((sum, call) => sum + call.tools, 0);
    $("counts").textContent = `${calls.size} call${calls.size === 1 ? "" : "s"} · ${toolCalls} tool call${toolCalls === 1 ? "" : "s"}`;
  }

  function fill(select, values, describe) {
    const wanted = ["", ...values];
    const have = [...select.options].map((option) => option.value);
    if (wanted.length === have.length && wanted.every((value, index) => value === have[index])) return;
    const first = select.options[0];
    select.replaceChildren(first, ...values.map((value) => el("option", { value }, describe(value))));
  }

  function renderFilters() {
    fill($("call-filter"), [...calls.keys()], (guid) => {
      const call = calls.get(guid);
      return `${short(guid)} ${call && call.caller ? call.caller : ""}`.trim();
    });
    fill($("tool-filter"), [...toolNames].sort(), (name) => name);
    $("call-filter").value = filters.call;
    $("tool-filter").value = filters.tool;
  }

  function applyFilters() {
    for (const row of rows.values()) {
      const visible =
        (!filters.call || row.dataset.session === filters.call) && (!filters.tool || row.dataset.tool === filters.tool);
      row.classList.toggle("hidden", !visible);
    }
    for (const item of $("calls").children) item.setAttribute("aria-current", String(item.dataset.session === filters.call));
  }

  function setFilter(name, value) {
    filters[name] = value;
    const hash = new URLSearchParams();
    if (filters.call) hash.set("call", filters.call);
    if (filters.tool) hash.set("tool", filters.tool);
    history.replaceState(null, "", hash.toString() ? `#${hash}` : location.pathname);
    renderFilters();
    applyFilters();
  }

  // -- copying a call ---------------------------------------------------------------------------------------

  async function copyCall(event, guid, what) {
    event.preventDefault();
    event.stopPropagation();
    const file = what === "scenario" ? "scenario.vns.yaml" : "transcript.jsonl";
    const response = await fetch(`calls/${encodeURIComponent(guid)}/${file}`, { cache: "no-store" });
    const text = await response.text();
    $("copy-title").textContent = what === "scenario" ? `Call ${short(guid)} as a scenario file` : `Call ${short(guid)} as a transcript`;
    $("copy-text").value = text;
    $("copy-text").dataset.kind = what;
    const download = $("copy-download");
    URL.revokeObjectURL(download.href);
    download.href = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
    download.download = what === "scenario" ? `call-${short(guid)}.vns.yaml` : `call-${short(guid)}.jsonl`;
    $("copy-note").textContent = response.ok
      ? what === "scenario"
        ? "Save it as tests/scenarios/<name>.vns.yaml: pytest and vns-sdk test run it."
        : "Replay it with vns-sdk replay FILE --app APP."
      : "The inspector no longer holds this call.";
    $("copy-dialog").showModal();
    await toClipboard(text);
  }

  async function toClipboard(text) {
    try {
      await navigator.clipboard.writeText(text);
      $("copy-note").textContent += " Copied to the clipboard.";
    } catch {
      // Not allowed here (no focus, or not a secure origin): the text is selected for a manual copy.
      $("copy-text").select();
    }
  }

  // -- start ------------------------------------------------------------------------------------------------

  function start() {
    const hash = new URLSearchParams(location.hash.slice(1));
    filters.call = hash.get("call") || "";
    filters.tool = hash.get("tool") || "";
    $("call-filter").addEventListener("change", (event) => setFilter("call", event.target.value));
    $("tool-filter").addEventListener("change", (event) => setFilter("tool", event.target.value));
    $("clear-filters").addEventListener("click", () => {
      setFilter("call", "");
      setFilter("tool", "");
    });
    $("copy-button").addEventListener("click", () => toClipboard($("copy-text").value));
    // The chat panel shows its own call's rows: it asks for them by the call's sessionGuid.
    document.addEventListener("vns:show-call", (event) => setFilter("call", event.detail || ""));

    const source = new EventSource("events");
    const connection = $("connection");
    source.addEventListener("open", () => {
      connection.dataset.state = "live";
      connection.textContent = "live";
    });
    source.addEventListener("error", () => {
      connection.dataset.state = "reconnecting";
      connection.textContent = "reconnecting";
    });
    source.addEventListener("message", (event) => receive(JSON.parse(event.data)));
  }

  start();
})();
