// The inspector's chat: a call to the agent through the real Realtime model, from this page.
//
// The server places the call on the app (CallStart, the Realtime session, every tool request, CallEnd; see
// vns_sdk/_observe/_chat_routes.py); this panel sends what the caller types and shows what the agent says.
// The call's webhooks come through the page's event stream like any call's: the timeline is filtered to
// them ("vns:show-call", which inspector.js handles), and a call ended elsewhere (the agent hung up, or the
// chat was left idle) is noticed from there ("vns:call-ended"). Everything shown is set as text.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const KEPT = "vns-sdk-inspector-chat"; // sessionStorage: the open chat survives a reload of the page
  const chat = { id: null, session: null, busy: false, checked: false };

  const item = (className, text) => {
    const element = document.createElement("li");
    element.className = className;
    element.textContent = text;
    $("chat-log").append(element);
    element.scrollIntoView({ block: "nearest" });
    return element;
  };

  function notice(text, tone) {
    const element = $("chat-notice");
    element.hidden = !text;
    element.textContent = text || "";
    element.classList.toggle("bad", tone === "bad");
  }

  async function request(method, path, body) {
    // JSON both ways; an answer that is not JSON (a proxy's error page) still becomes one clear message.
    const options = { method, cache: "no-store", headers: {} };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, options);
    } catch {
      return { ok: false, status: 0, body: { error: "offline", message: "The app could not be reached." } };
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = { error: "unexpected", message: `The app answered HTTP ${response.status}.` };
    }
    if (response.status === 404 && path === "chat" && (!data || data.error !== "unknown_chat")) {
      data = { error: "no_chat", message: "This app serves no chat." };
    }
    return { ok: response.ok, status: response.status, body: data || {} };
  }

  // -- the panel ----------------------------------------------------------------------------------------------

  async function open(show) {
    $("side-panel").hidden = !show;
    $("chat-toggle").setAttribute("aria-expanded", String(show));
    if (show && !chat.checked) await check();
  }

  async function check() {
    const answer = await request("GET", "chat");
    chat.checked = answer.ok;
    const ready = answer.ok && answer.body.ready;
    $("chat-call").disabled = !ready;
    if (!ready) notice(answer.body.message || "The chat is not available.", "bad");
    else if (!chat.id) notice("");
  }

  function live(summary) {
    chat.id = summary.chat;
    chat.session = summary.session;
    sessionStorage.setItem(KEPT, summary.chat);
    $("chat-start").hidden = true;
    $("chat-say").hidden = false;
    const tools = (summary.tools || []).join(", ") || "none";
    const info = $("chat-call-info");
    info.hidden = false;
    info.textContent = `Call ${summary.session.slice(0, 8)} · ${summary.model || "?"} · tools: ${tools}`;
    info.title = summary.session;
    usage(summary.usage);
    document.dispatchEvent(new CustomEvent("vns:show-call", { detail: summary.session }));
    $("chat-text").focus();
  }

  function ended(message) {
    if (!chat.id) return;
    item("bubble ended", message || "The call has ended.");
    chat.id = null;
    chat.busy = false;
    sessionStorage.removeItem(KEPT);
    $("chat-say").hidden = true;
    $("chat-start").hidden = false;
    $("chat-send").disabled = false;
  }

  function usage(figures) {
    $("chat-usage").textContent = figures && figures.responses
      ? `${figures.input_tokens} in · ${figures.output_tokens} out tokens`
      : "";
  }

  function showTurn(turn) {
    for (const tool of turn.tools) {
      const chip = document.createElement("li");
      chip.className = "tool-chip";
      const name = document.createElement("span");
      name.className = "tool";
      name.textContent = tool.name;
      const how = tool.ran ? `HTTP ${tool.status} · ${tool.ms} ms` : `not run: ${tool.skipped || tool.problem || "?"}`;
      chip.append("⚙ ", name, ` ${how}`);
      if (tool.problem && tool.ran) chip.title = tool.problem;
      $("chat-log").append(chip);
    }
    if (turn.text) item("bubble agent", turn.text);
    else if (!turn.tools.length) item("bubble agent waiting", "(the agent said nothing)");
  }

  // -- what the caller does -----------------------------------------------------------------------------------

  async function start(event) {
    event.preventDefault();
    if (chat.id || chat.busy) return;
    chat.busy = true;
    $("chat-call").disabled = true;
    notice("");
    $("chat-log").replaceChildren();
    const waiting = item("bubble agent waiting", "Calling…");
    const caller = $("chat-caller").value.trim();
    const called = $("chat-called").value.trim();
    const answer = await request("POST", "chat", { caller_id: caller || null, called_number: called || null });
    waiting.remove();
    chat.busy = false;
    $("chat-call").disabled = false;
    if (answer.ok) live(answer.body);
    else notice(answer.body.message, "bad");
  }

  async function say(event) {
    event.preventDefault();
    const text = $("chat-text").value.trim();
    if (!text || !chat.id || chat.busy) return;
    chat.busy = true;
    $("chat-send").disabled = true;
    $("chat-text").value = "";
    item("bubble caller", text);
    const waiting = item("bubble agent waiting", "…");
    const answer = await request("POST", `chat/${encodeURIComponent(chat.id)}/say`, { text });
    waiting.remove();
    chat.busy = false;
    $("chat-send").disabled = false;
    const state = answer.body.chat;
    if (answer.status === 404 || answer.status === 410) {
      ended(answer.body.message); // it had ended already (left idle, say): the line was not said
      return;
    }
    if (answer.ok) {
      showTurn(answer.body.turn);
      usage(state && state.usage);
    } else {
      item("bubble problem", answer.body.message || `The app answered HTTP ${answer.status}.`);
      if (answer.status === 413 || answer.status === 422) $("chat-text").value = text;
    }
    // A failure's own line is shown above: the end needs no second copy of it.
    if (state && !state.live) ended(answer.ok ? state.message : "The call has ended (CallEnd sent).");
    else $("chat-text").focus();
  }

  async function hangUp() {
    if (!chat.id) return;
    chat.busy = true; // its CallEnd, seen in the stream meanwhile, is this hang-up's
    const answer = await request("POST", `chat/${encodeURIComponent(chat.id)}/hang-up`, {});
    ended(answer.ok ? "You hung up: CallEnd sent." : answer.body.message);
  }

  async function endedElsewhere(event) {
    // The agent hung up during a turn (the turn's answer says so), or the chat was left idle: ask how it ended.
    if (!chat.id || event.detail !== chat.session || chat.busy) return;
    const answer = await request("GET", `chat/${encodeURIComponent(chat.id)}`);
    if (!answer.ok || !answer.body.live) ended(answer.body.message || (answer.body.error && answer.body.error.message));
  }

  async function restore() {
    const kept = sessionStorage.getItem(KEPT);
    if (!kept) return;
    const answer = await request("GET", `chat/${encodeURIComponent(kept)}`);
    if (!answer.ok || !answer.body.live) {
      sessionStorage.removeItem(KEPT);
      return;
    }
    await open(true);
    live(answer.body);
    for (const turn of answer.body.turns || []) {
      item("bubble caller", turn.caller);
      showTurn(turn);
    }
  }

  function begin() {
    $("chat-toggle").addEventListener("click", () => open($("side-panel").hidden));
    $("chat-close").addEventListener("click", () => open(false));
    $("chat-start").addEventListener("submit", start);
    $("chat-say").addEventListener("submit", say);
    $("chat-hangup").addEventListener("click", hangUp);
    $("chat-text").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) say(event);
    });
    document.addEventListener("vns:call-ended", endedElsewhere);
    restore();
  }

  begin();
})();
