/*
 * convoflow Web Chat widget. Embed it with one tag:
 *   <script src="https://convoflow.example/widget/webchat.js" data-channel="CHANNEL_KEY" async></script>
 *
 * It keeps the visitor's token in localStorage, talks over a WebSocket (/webchat/KEY/socket) and falls
 * back to REST polling (/webchat/KEY/messages) while the socket is down. Message text is only ever put
 * in the page with textContent, never as HTML. Its styles live in a shadow root, apart from the page's.
 */
(() => {
  "use strict";

  const script = document.currentScript;
  const key = script && script.dataset.channel;
  if (!key) {
    console.error("convoflow web chat: the script tag needs a data-channel attribute");
    return;
  }
  const base = new URL(script.src, location.href).href.replace(/\/widget\/webchat\.js(\?.*)?$/, "");
  const api = `${base}/webchat/${encodeURIComponent(key)}`;
  const storageKey = `convoflow.webchat.${key}`;
  const POLL_MS = 3000;
  const MAX_TEXT = 4096;

  // --- state -------------------------------------------------------------------------------
  let token = readToken();
  let cursor = 0; // every message up to this id has been received
  let socket = null;
  let socketReady = false;
  let retryMs = 1000;
  let pollTimer = null;
  let connecting = null;
  const shown = new Map(); // ref (or "id:N") -> <li>
  const unsent = new Map(); // client_id -> frame, until the server confirms it

  function readToken() {
    try {
      return JSON.parse(localStorage.getItem(storageKey) || "{}").token || null;
    } catch (_) {
      return null;
    }
  }

  function saveToken(value) {
    token = value;
    try {
      if (value) localStorage.setItem(storageKey, JSON.stringify({ token: value }));
      else localStorage.removeItem(storageKey);
    } catch (_) {
      /* private mode: the chat lasts as long as the page */
    }
  }

  const visitorId = () => (token ? token.split(".")[0] : "");
  const newId = () => {
    const bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  };

  // --- elements ------------------------------------------------------------------------------
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value);
    }
    node.append(...children);
    return node;
  }

  const STYLE = `
    :host { all: initial; }
    * { box-sizing: border-box; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
    .bubble { position: fixed; right: 20px; bottom: 20px; width: 56px; height: 56px; border-radius: 50%;
      border: none; background: #2563eb; color: #fff; font-size: 26px; cursor: pointer; z-index: 2147483000;
      box-shadow: 0 4px 14px rgba(0,0,0,.25); }
    .bubble.unread::after { content: ""; position: absolute; top: 6px; right: 6px; width: 12px; height: 12px;
      border-radius: 50%; background: #ef4444; }
    .panel { position: fixed; right: 20px; bottom: 88px; width: min(360px, calc(100vw - 40px));
      height: min(520px, calc(100vh - 120px)); display: flex; flex-direction: column; background: #fff;
      border-radius: 12px; box-shadow: 0 8px 30px rgba(0,0,0,.25); z-index: 2147483000; overflow: hidden; }
    .panel[hidden] { display: none; }
    header { display: flex; align-items: center; justify-content: space-between; padding: 12px 14px;
      background: #2563eb; color: #fff; }
    header h2 { margin: 0; font-size: 16px; }
    header button { background: none; border: none; color: #fff; font-size: 20px; cursor: pointer; }
    .status { font-size: 12px; color: #92400e; background: #fef3c7; padding: 4px 10px; }
    .status:empty { display: none; }
    ol { list-style: none; margin: 0; padding: 12px; flex: 1; overflow-y: auto; background: #f8fafc; }
    li { max-width: 80%; margin: 6px 0; padding: 8px 10px; border-radius: 10px; font-size: 14px;
      line-height: 1.35; white-space: pre-wrap; overflow-wrap: anywhere; }
    li.them { background: #e2e8f0; color: #0f172a; margin-right: auto; }
    li.me { background: #2563eb; color: #fff; margin-left: auto; }
    li.pending { opacity: .6; }
    li.failed { background: #fee2e2; color: #991b1b; }
    li p { margin: 0; }
    li img { max-width: 100%; border-radius: 6px; display: block; }
    li a { color: inherit; }
    .replies { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; }
    .replies button { border: 1px solid #2563eb; background: #fff; color: #2563eb; border-radius: 14px;
      padding: 4px 10px; font-size: 13px; cursor: pointer; }
    .replies button:disabled { opacity: .5; cursor: default; }
    form { display: flex; gap: 6px; padding: 10px; border-top: 1px solid #e2e8f0; }
    form input[type=text] { flex: 1; padding: 8px; border: 1px solid #cbd5e1; border-radius: 8px; font-size: 14px; }
    form button { border: none; border-radius: 8px; padding: 0 12px; cursor: pointer; background: #2563eb;
      color: #fff; font-size: 14px; }
    form button.attach { background: #e2e8f0; color: #0f172a; }
    .sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
    :focus-visible { outline: 2px solid #f59e0b; outline-offset: 2px; }
  `;

  const log = el("ol", { role: "log", "aria-live": "polite", "aria-label": "Messages" });
  const status = el("div", { class: "status", role: "status" });
  const input = el("input", {
    type: "text",
    id: "cf-message",
    maxlength: String(MAX_TEXT),
    autocomplete: "off",
    placeholder: "Write a message…",
  });
  const fileInput = el("input", { type: "file", class: "sr", tabindex: "-1", "aria-hidden": "true" });
  const attach = el("button", { type: "button", class: "attach", "aria-label": "Attach a file", text: "📎" });
  const form = el(
    "form",
    {},
    el("label", { class: "sr", for: "cf-message", text: "Message" }),
    input,
    attach,
    fileInput,
    el("button", { type: "submit", text: "Send" }),
  );
  const closeButton = el("button", { type: "button", "aria-label": "Close chat", text: "×" });
  const panel = el(
    "section",
    { class: "panel", id: "cf-panel", role: "dialog", "aria-label": "Chat with us", hidden: "" },
    el("header", {}, el("h2", { text: "Chat with us" }), closeButton),
    status,
    log,
    form,
  );
  const bubble = el("button", {
    type: "button",
    class: "bubble",
    "aria-label": "Open chat",
    "aria-expanded": "false",
    "aria-controls": "cf-panel",
    text: "💬",
  });

  const host = el("div", { id: "convoflow-webchat" });
  const root = host.attachShadow({ mode: "open" });
  root.append(el("style", { text: STYLE }), bubble, panel);

  function setOpen(open) {
    panel.hidden = !open;
    bubble.setAttribute("aria-expanded", String(open));
    bubble.setAttribute("aria-label", open ? "Close chat" : "Open chat");
    if (open) {
      bubble.classList.remove("unread");
      input.focus();
      log.scrollTop = log.scrollHeight;
    } else {
      bubble.focus();
    }
  }

  bubble.addEventListener("click", () => setOpen(panel.hidden));
  closeButton.addEventListener("click", () => setOpen(false));
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") setOpen(false);
  });

  // --- rendering -----------------------------------------------------------------------------
  function safeUrl(value) {
    try {
      const url = new URL(value, base);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (_) {
      return null;
    }
  }

  function link(href, text) {
    return el("a", { href, target: "_blank", rel: "noopener noreferrer", text });
  }

  function body(content) {
    switch (content.type) {
      case "text":
        return [el("p", { text: content.text })];
      case "quick_reply": {
        const replies = el("div", { class: "replies", role: "group", "aria-label": "Quick replies" });
        for (const reply of content.replies || []) {
          replies.append(
            el("button", {
              type: "button",
              text: reply,
              onclick: () => {
                for (const button of replies.querySelectorAll("button")) button.disabled = true;
                send({ type: "button", text: reply });
              },
            }),
          );
        }
        return [el("p", { text: content.title }), replies];
      }
      case "attachment": {
        const file = content.attachment || {};
        const href = safeUrl(file.url || "");
        const name = file.name || "File";
        const parts = [];
        if (href && file.type === "image") {
          const anchor = link(href, "");
          anchor.append(el("img", { src: href, alt: name }));
          parts.push(anchor);
        } else if (href) parts.push(link(href, name));
        else parts.push(el("p", { text: name }));
        if (content.caption) parts.push(el("p", { text: content.caption }));
        return parts;
      }
      case "location": {
        const href = `https://www.openstreetmap.org/?mlat=${Number(content.latitude)}&mlon=${Number(content.longitude)}`;
        return [link(href, content.address || "Location")];
      }
      default:
        return [el("p", { text: "(a message this chat cannot show)" })];
    }
  }

  function show(message) {
    const id = message.ref || `id:${message.id}`;
    const known = shown.get(id);
    if (known) {
      known.classList.remove("pending", "failed");
      return false;
    }
    const mine = message.from === "visitor";
    const item = el("li", { class: mine ? "me" : "them" }, ...body(message.content || {}));
    if (!mine) item.prepend(el("span", { class: "sr", text: "Reply: " }));
    shown.set(id, item);
    log.append(item);
    log.scrollTop = log.scrollHeight;
    return !mine;
  }

  function receive(messages, next) {
    const refs = [];
    let news = false;
    for (const message of messages) {
      if (show(message) && message.ref) {
        news = true;
        refs.push(message.ref);
      }
    }
    cursor = Math.max(cursor, next);
    if (news && panel.hidden) {
      bubble.classList.add("unread");
      bubble.setAttribute("aria-label", "Open chat (new messages)");
    }
    if (refs.length) deliver({ type: "ack", refs }); // our messages reached the visitor: `delivered`
  }

  function markFailed(clientId, reason) {
    unsent.delete(clientId);
    const item = shown.get(`${visitorId()}:${clientId}`);
    if (!item) return;
    item.classList.remove("pending");
    item.classList.add("failed");
    item.append(el("p", { text: `Not sent: ${reason}` }));
  }

  // --- transport -----------------------------------------------------------------------------
  async function request(path, options = {}) {
    const headers = Object.assign({}, options.headers || {});
    if (token) headers.Authorization = `Bearer ${token}`;
    const response = await fetch(`${api}${path}`, Object.assign({}, options, { headers }));
    if (response.status === 401 && token) saveToken(null); // e.g. the server's secret key changed
    return response;
  }

  async function ensureVisitor() {
    if (token) return;
    const response = await request("/visitors", { method: "POST" });
    if (!response.ok) throw new Error(await reason(response));
    saveToken((await response.json()).token);
  }

  async function reason(response) {
    try {
      return (await response.json()).message || `HTTP ${response.status}`;
    } catch (_) {
      return `HTTP ${response.status}`;
    }
  }

  function connect() {
    if (socket || !token) return;
    const ws = new WebSocket(`${api.replace(/^http/, "ws")}/socket`);
    socket = ws;
    ws.addEventListener("open", () => ws.send(JSON.stringify({ type: "hello", token, after: cursor })));
    ws.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch (_) {
        return;
      }
      if (frame.type === "ready") {
        socketReady = true;
        retryMs = 1000;
        setStatus("");
        stopPolling();
        for (const pending of unsent.values()) deliver(pending);
      } else if (frame.type === "messages") {
        receive(frame.messages, frame.cursor);
      } else if (frame.type === "stored" && frame.client_id) {
        unsent.delete(frame.client_id);
      } else if (frame.type === "error" && frame.client_id && frame.error !== "server_error") {
        markFailed(frame.client_id, frame.message);
      }
    });
    ws.addEventListener("close", (event) => {
      socket = null;
      socketReady = false;
      if (event.code === 4401) saveToken(null);
      if (event.code === 4404 || event.code === 4410) {
        setStatus("This chat is not available.");
        return;
      }
      startPolling();
      setTimeout(() => start().catch(() => {}), retryMs);
      retryMs = Math.min(retryMs * 2, 30000);
    });
  }

  function setStatus(text) {
    status.textContent = text;
  }

  function startPolling() {
    if (pollTimer || !token) return;
    setStatus("Reconnecting… messages still arrive.");
    pollTimer = setInterval(poll, POLL_MS);
    poll();
  }

  function stopPolling() {
    clearInterval(pollTimer);
    pollTimer = null;
  }

  async function poll() {
    if (socketReady || !token) return;
    try {
      let more = true;
      while (more) {
        const response = await request(`/messages?after=${cursor}`);
        if (!response.ok) return;
        const page = await response.json();
        receive(page.messages, page.cursor);
        more = page.more;
      }
      for (const pending of unsent.values()) deliver(pending);
    } catch (_) {
      /* offline: the next tick tries again */
    }
  }

  async function deliver(frame) {
    if (socketReady && socket) {
      socket.send(JSON.stringify(frame));
      return;
    }
    if (!token) return;
    try {
      const response = await request("/messages", { method: "POST", body: JSON.stringify(frame) });
      if (response.ok) unsent.delete(frame.client_id);
      else if (response.status !== 429 && response.status < 500 && frame.client_id) {
        markFailed(frame.client_id, await reason(response));
      }
    } catch (_) {
      /* kept in `unsent`: sent again on the next poll or when the socket is back */
    }
  }

  async function start() {
    await ensureVisitor();
    connect();
  }

  async function send(frame, preview) {
    frame.client_id = newId();
    try {
      await start();
    } catch (error) {
      setStatus(`The chat could not start: ${error.message}`);
      return;
    }
    const mine = { ref: `${visitorId()}:${frame.client_id}`, from: "visitor", content: preview || frame };
    show(mine);
    shown.get(mine.ref).classList.add("pending");
    if (frame.type !== "ack") unsent.set(frame.client_id, frame);
    deliver(frame);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send({ type: "text", text });
  });

  attach.addEventListener("click", () => fileInput.click());
  fileInput.addEventListener("change", async () => {
    const file = fileInput.files && fileInput.files[0];
    fileInput.value = "";
    if (!file) return;
    try {
      await start();
      const response = await request(`/uploads?name=${encodeURIComponent(file.name)}`, {
        method: "POST",
        headers: { "Content-Type": file.type || "application/octet-stream" },
        body: file,
      });
      if (!response.ok) {
        setStatus(`The file was not sent: ${await reason(response)}`);
        return;
      }
      const uploaded = await response.json();
      const preview = { type: "attachment", attachment: { type: uploaded.kind, url: uploaded.url, name: uploaded.name } };
      send({ type: "attachment", file_id: uploaded.file_id }, preview);
    } catch (error) {
      setStatus(`The file was not sent: ${error.message}`);
    }
  });

  const mount = () => {
    document.body.append(host);
    if (token) start().catch(() => startPolling()); // a returning visitor sees replies sent meanwhile
  };
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
