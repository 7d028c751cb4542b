/*! Leadbot chat widget | one file, no dependencies | https://github.com/leadbot (self-hosted) */
/*
 * Embed:  <script src="https://bot.example.com/widget.js" data-server="https://bot.example.com"
 *                 data-title="Acme" data-color="#1d4ed8" async></script>
 * Options: data-* attributes or Leadbot.init({...}); the table with defaults is in README.md.
 * API:     Leadbot.open(), .close(), .toggle(), .send(text), .on(event, fn) -> off, .reset(),
 *          .init(options), .version. Events: ready, open, close, send, message, error.
 * Rules this file keeps: everything lives in one shadow root (no CSS in or out), one global
 * (`Leadbot`), text is rendered as text (textContent), links only for http/https/mailto, every
 * storage access in try/catch, every request with a timeout, nothing typed is ever dropped.
 */
(function () {
  "use strict";

  var VERSION = "1.1.0";
  // Of the stored state; a different schema keeps the session only. Schema 1 had a sender id
  // the browser made up, which the server no longer accepts: it starts a fresh session.
  var SCHEMA = 2;
  var TAG = "leadbot-chat";
  if (window.Leadbot && window.Leadbot.version) return; // the tag was included twice

  var UTM_KEYS = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];
  var LINK_SCHEMES = ["http:", "https:", "mailto:"];
  var TRANSCRIPT_MAX = 200;
  var TRANSCRIPT_DAYS = 30;
  var BACKOFF_S = [1, 2, 4, 8, 15, 30];
  var POLL_HOLD_S = 25; // how long the server holds a long-poll
  var HANDOFF_OPEN = ["waiting", "live", "missed"]; // a person may still write

  var STRINGS = {
    en: {
      open: "Open chat", hide: "Hide chat", close: "Close chat", message: "Message",
      placeholder: "Type your message…", send: "Send", typing: "is typing…", retry: "Retry",
      offline: "Can't reach the chat server.", retryIn: "Retrying in {s} s.",
      retrying: "Retrying…", notSent: "Not sent yet — will retry", sending: "Sending…",
      failed: "This message couldn't be sent.", refused: "The chat isn't available on this site.",
      privacy: "Privacy policy", log: "Conversation", you: "You", replies: "Suggested replies",
      dismiss: "Dismiss", bot: "Assistant", title: "Chat with us",
      subtitle: "Automated assistant · replies instantly"
    },
    de: {
      open: "Chat öffnen", hide: "Chat ausblenden", close: "Chat schließen", message: "Nachricht",
      placeholder: "Nachricht eingeben…", send: "Senden", typing: "schreibt…",
      retry: "Erneut versuchen", offline: "Der Chat-Server ist nicht erreichbar.",
      retryIn: "Neuer Versuch in {s} s.", retrying: "Neuer Versuch…",
      notSent: "Noch nicht gesendet — wird wiederholt", sending: "Wird gesendet…",
      failed: "Diese Nachricht konnte nicht gesendet werden.",
      refused: "Der Chat ist auf dieser Website nicht verfügbar.", privacy: "Datenschutz",
      log: "Unterhaltung", you: "Sie", replies: "Antwortvorschläge", dismiss: "Schließen",
      bot: "Assistent", title: "Chatten Sie mit uns",
      subtitle: "Automatischer Assistent · antwortet sofort"
    }
  };

  // ---- options ------------------------------------------------------------------------------
  var script = document.currentScript ||
    document.querySelector('script[src*="widget.js"][data-server]') ||
    document.querySelector('script[src*="widget.js"]');

  function scriptOrigin() {
    try { return new URL(script.src, location.href).origin; } catch (e) { return location.origin; }
  }

  function list(value) {
    if (Array.isArray(value)) return value;
    return String(value || "").split(",").map(function (s) { return s.trim(); }).filter(Boolean);
  }

  /** One typed options object from defaults, data-* attributes, then init() arguments. */
  function readOptions(given) {
    var data = (script && script.dataset) || {};
    var o = {
      server: scriptOrigin(), title: "", color: "#1d4ed8", avatar: "", position: "right",
      greeting: "", privacyUrl: "", lang: "", openAfter: null, openOn: [], openIf: [],
      startMessage: "/greet", timeout: 20, autoInit: true
    };
    var attrs = {
      server: data.server, title: data.title, color: data.color, avatar: data.avatar,
      position: data.position, greeting: data.greeting, privacyUrl: data.privacyUrl,
      lang: data.lang, openAfter: data.openAfter, openOn: data.openOn, openIf: data.openIf,
      startMessage: data.startMessage, timeout: data.timeout, autoInit: data.autoInit
    };
    [attrs, given || {}].forEach(function (src) {
      Object.keys(src).forEach(function (k) {
        if (src[k] !== undefined && src[k] !== null && src[k] !== "") o[k] = src[k];
      });
    });
    o.server = String(o.server).replace(/\/+$/, "");
    o.position = o.position === "left" ? "left" : "right";
    o.openAfter = o.openAfter === null ? null : Math.max(0, Number(o.openAfter) || 0);
    o.openOn = list(o.openOn);
    o.openIf = list(o.openIf);
    o.timeout = Math.max(3, Number(o.timeout) || 20);
    o.autoInit = String(o.autoInit) !== "false";
    var lang = String(o.lang || document.documentElement.lang || navigator.language || "en");
    o.lang = STRINGS[lang.slice(0, 2).toLowerCase()] ? lang.slice(0, 2).toLowerCase() : "en";
    o.privacyUrl = safeUrl(o.privacyUrl || o.server + "/privacy") || "";
    o.avatar = o.avatar ? safeUrl(o.avatar, ["http:", "https:", "data:"]) || "" : "";
    if (!/^#[0-9a-f]{6}$/i.test(o.color)) o.color = "#1d4ed8";
    return o;
  }

  // ---- small helpers ------------------------------------------------------------------------
  function safeUrl(value, schemes) {
    try {
      var url = new URL(String(value), location.href);
      if ((schemes || LINK_SCHEMES).indexOf(url.protocol) === -1) return null;
      if (url.protocol === "data:" && !/^data:image\/(png|jpeg|gif|webp);/i.test(url.href)) return null;
      return url.href;
    } catch (e) { return null; }
  }

  function uuid() {
    try { if (crypto.randomUUID) return crypto.randomUUID(); } catch (e) { /* insecure context */ }
    var b = new Uint8Array(16);
    try { crypto.getRandomValues(b); } catch (e) {
      for (var i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    }
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); });
    return h.slice(0, 4).join("") + "-" + h.slice(4, 6).join("") + "-" + h.slice(6, 8).join("") +
      "-" + h.slice(8, 10).join("") + "-" + h.slice(10).join("");
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "class") node.className = attrs[k];
      else if (attrs[k] !== null && attrs[k] !== false) node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  function svg(path) {
    var ns = "http://www.w3.org/2000/svg";
    var s = document.createElementNS(ns, "svg");
    s.setAttribute("viewBox", "0 0 24 24"); s.setAttribute("aria-hidden", "true");
    s.setAttribute("focusable", "false");
    var p = document.createElementNS(ns, "path");
    p.setAttribute("d", path); s.appendChild(p);
    return s;
  }
  var ICON_CHAT = "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z";
  var ICON_CLOSE = "M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4z";
  var ICON_SEND = "M3 20.5 21 12 3 3.5l.01 6.6L15 12 3.01 13.9z";

  // Colours: text on the brand colour is white or near-black, whichever reads (WCAG 4.5:1);
  // brand-coloured text on white is darkened until it reads.
  function rgb(hex) {
    return [1, 3, 5].map(function (i) { return parseInt(hex.slice(i, i + 2), 16); });
  }
  function luminance(c) {
    var v = c.map(function (x) { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
  }
  function contrast(a, b) {
    var x = luminance(a), y = luminance(b);
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  }
  function hex(c) { return "#" + c.map(function (x) { return (Math.round(x) + 256).toString(16).slice(1); }).join(""); }
  function palette(color) {
    var c = rgb(color), white = [255, 255, 255];
    var ink = contrast(c, white) >= 4.5 ? "#ffffff" : "#111827";
    var accent = c.slice();
    for (var i = 0; i < 20 && contrast(accent, white) < 4.6; i++) {
      accent = accent.map(function (x) { return x * 0.88; });
    }
    return { brand: color, ink: ink, accent: hex(accent) };
  }

  function format(text, values) {
    return text.replace(/\{(\w+)\}/g, function (_, k) { return values[k]; });
  }

  // ---- storage: every access in try/catch; memory when storage is blocked -------------------
  var memory = {};
  function storage(kind) {
    return {
      get: function (key) {
        try { var raw = window[kind].getItem(key); return raw ? JSON.parse(raw) : null; } catch (e) {
          return memory[kind + key] || null;
        }
      },
      set: function (key, value) {
        memory[kind + key] = value;
        try { window[kind].setItem(key, JSON.stringify(value)); return true; } catch (e) { return false; }
      },
      remove: function (key) {
        delete memory[kind + key];
        try { window[kind].removeItem(key); } catch (e) { /* blocked */ }
      }
    };
  }
  var local = storage("localStorage");
  var session = storage("sessionStorage");

  // The conversation id (`sender`) and its `token` come from the server
  // (POST /webhooks/widget/session) before the first message; both are sent with every message.
  function emptyState(sender, token) {
    return { version: VERSION, schema: SCHEMA, sender: sender || "", token: token || "",
      messages: [], pending: [], draft: "", open: false, firstTouch: {}, teaserDismissed: false,
      updated: Date.now() };
  }

  function loadState(key) {
    var s = local.get(key);
    if (!s || typeof s !== "object" || typeof s.sender !== "string") return emptyState();
    if (s.schema !== SCHEMA) {
      return s.schema > 1 ? emptyState(s.sender, s.token) : emptyState(); // another layout
    }
    if (typeof s.token !== "string") s.token = "";
    if (!Array.isArray(s.messages) || !Array.isArray(s.pending)) return emptyState(s.sender, s.token);
    if (Date.now() - (s.updated || 0) > TRANSCRIPT_DAYS * 864e5) {
      var fresh = emptyState(s.sender, s.token); // same visitor, recognised by the server; old chat hidden
      fresh.firstTouch = s.firstTouch || {};
      return fresh;
    }
    s.version = VERSION;
    return s;
  }

  // ---- transport: REST behind an interface (send(payload) -> Promise<bot messages>) ---------
  function TransportError(message, retryable, retryAfter, status) {
    var e = new Error(message);
    e.retryable = retryable; e.retryAfter = retryAfter; e.status = status;
    return e;
  }

  function restTransport(server, timeoutS) {
    function post(url, payload, accept) {
        var controller = typeof AbortController === "function" ? new AbortController() : null;
        var timer = setTimeout(function () { if (controller) controller.abort(); }, timeoutS * 1000);
        return fetch(url, {
          method: "POST", mode: "cors", credentials: "omit", cache: "no-store",
          headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload),
          signal: controller ? controller.signal : undefined
        }).then(function (response) {
          return response.json().catch(function () { return null; }).then(function (body) {
            if (response.ok && accept(body)) return body;
            var retryable = response.status >= 500 || response.status === 429 || response.status === 408;
            var after = Number(response.headers.get("Retry-After")) || 0;
            throw TransportError((body && body.error) || "http_" + response.status, retryable, after, response.status);
          });
        }, function (error) {
          throw TransportError(error && error.name === "AbortError" ? "timeout" : "network", true, 0, 0);
        }).finally(function () { clearTimeout(timer); });
    }
    return {
      // A new conversation: {sender, session} minted and signed by the server.
      session: function () {
        return post(server + "/webhooks/widget/session", {}, function (body) {
          return body && typeof body.sender === "string" && typeof body.session === "string";
        });
      },
      send: function (payload) {
        return post(server + "/webhooks/widget/webhook", payload, Array.isArray);
      },
      // Long-poll for what a person (or the bot, on its own) says while a handoff is open:
      // the server holds the request up to 25 s. Resolves {messages, cursor, state}.
      poll: function (sender, cursor, sessionToken) {
        var controller = typeof AbortController === "function" ? new AbortController() : null;
        var timer = setTimeout(function () { if (controller) controller.abort(); }, (POLL_HOLD_S + timeoutS) * 1000);
        var q = "?sender=" + encodeURIComponent(sender) + (cursor === null ? "" : "&after=" + cursor) +
          (sessionToken ? "&session=" + encodeURIComponent(sessionToken) : "");
        return fetch(server + "/webhooks/widget/events" + q, {
          method: "GET", mode: "cors", credentials: "omit", cache: "no-store",
          signal: controller ? controller.signal : undefined
        }).then(function (response) {
          return response.json().catch(function () { return null; }).then(function (body) {
            if (response.ok && body && Array.isArray(body.messages)) return body;
            var retryable = response.status >= 500 || response.status === 429 || response.status === 0;
            throw TransportError((body && body.error) || "http_" + response.status, retryable, 0, response.status);
          });
        }, function (error) {
          throw TransportError(error && error.name === "AbortError" ? "timeout" : "network", true, 0, 0);
        }).finally(function () { clearTimeout(timer); });
      }
    };
  }

  // ---- metadata sent with every message ------------------------------------------------------
  function pageMetadata(state) {
    var md = { page_url: location.href.slice(0, 500), widget_version: VERSION };
    var ref = document.referrer;
    var internal = false;
    try { internal = !!ref && new URL(ref).origin === location.origin; } catch (e) { internal = false; }
    // The referrer that brought the visitor to the site, not the previous page of the site.
    md.referrer = (internal ? state.firstTouch.referrer : ref) || "";
    var params;
    try { params = new URL(location.href).searchParams; } catch (e) { params = new URLSearchParams(""); }
    UTM_KEYS.forEach(function (k) {
      var v = params.get(k) || state.firstTouch[k];
      if (v) md[k] = String(v).slice(0, 200);
    });
    try { md.timezone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { md.timezone = ""; }
    md.locale = navigator.language || "";
    return md;
  }

  function recordFirstTouch(state) {
    var params;
    try { params = new URL(location.href).searchParams; } catch (e) { return; }
    var touch = {};
    UTM_KEYS.forEach(function (k) { if (params.get(k)) touch[k] = params.get(k).slice(0, 200); });
    var ref = document.referrer, external = false;
    try { external = !!ref && new URL(ref).origin !== location.origin; } catch (e) { external = false; }
    if (external) touch.referrer = ref.slice(0, 500);
    if (Object.keys(touch).length) {
      touch.landing = location.href.slice(0, 500);
      state.firstTouch = touch; // a new campaign visit replaces the older one
    }
  }

  // ---- text rendering: text nodes and allow-listed links, never HTML --------------------------
  var LINK_RE = /((?:https?:\/\/|mailto:)[^\s<>"']+|[A-Z0-9._%+-]+@[A-Z0-9-]+(?:\.[A-Z0-9-]+)*\.[A-Z]{2,})/gi;

  function renderText(parent, text) {
    var last = 0, match;
    text = String(text);
    LINK_RE.lastIndex = 0;
    while ((match = LINK_RE.exec(text))) {
      var raw = match[0].replace(/[.,;:!?)\]]+$/, "");
      var href = safeUrl(/^[a-z]+:/i.test(raw) ? raw : "mailto:" + raw);
      if (!href) continue;
      parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      parent.appendChild(el("a", { href: href, target: "_blank", rel: "noopener noreferrer", text: raw }));
      last = match.index + raw.length;
      LINK_RE.lastIndex = last;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  // ---- styles (one string, adopted by the shadow root) --------------------------------------
  var CSS = [
    ":host{all:initial!important;display:block!important;position:static!important}",
    "*{box-sizing:border-box}",
    ".root{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;color:#111827;-webkit-font-smoothing:antialiased}",
    "button,textarea{font:inherit;color:inherit}",
    ".sr{position:absolute!important;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}",
    ":focus{outline:none}",
    ":focus-visible{outline:3px solid var(--accent);outline-offset:2px}",
    ".launcher{position:fixed;bottom:20px;z-index:2147483000;width:60px;height:60px;border-radius:50%;border:0;cursor:pointer;background:var(--brand);color:var(--ink);box-shadow:0 6px 24px rgba(17,24,39,.28);display:grid;place-items:center;transition:transform .15s}",
    ".launcher:hover{transform:scale(1.06)}",
    ".launcher:focus-visible{outline:3px solid #111827;box-shadow:0 0 0 6px #fff}",
    ".launcher svg{width:28px;height:28px;fill:currentColor}",
    ".right .launcher,.right .panel,.right .teaser{right:20px}.left .launcher,.left .panel,.left .teaser{left:20px}",
    ".teaser{position:fixed;bottom:92px;z-index:2147483000;max-width:280px;display:flex;align-items:flex-start;gap:4px;background:#fff;border-radius:14px;box-shadow:0 6px 24px rgba(17,24,39,.2);padding:4px}",
    ".teaser button{background:none;border:0;cursor:pointer;text-align:left;padding:8px 10px;border-radius:10px}",
    ".teaser .x{padding:6px;line-height:0}.teaser svg{width:16px;height:16px;fill:#4b5563}",
    ".panel{position:fixed;bottom:92px;z-index:2147483001;width:380px;height:min(640px,calc(100vh - 116px));display:flex;flex-direction:column;background:#fff;border-radius:16px;overflow:hidden;box-shadow:0 12px 48px rgba(17,24,39,.3);border:1px solid #e5e7eb}",
    ".panel[hidden],.teaser[hidden],.banner[hidden],.typing[hidden]{display:none}",
    "@media (prefers-reduced-motion:no-preference){.panel{animation:lb-in .18s ease-out}}",
    "@keyframes lb-in{from{opacity:0;transform:translateY(12px)}to{opacity:1;transform:none}}",
    "header{display:flex;align-items:center;gap:12px;padding:14px 14px 14px 16px;background:var(--brand);color:var(--ink)}",
    "header :focus-visible{outline-color:var(--ink)}",
    ".avatar{width:38px;height:38px;border-radius:50%;flex:none;background:rgba(255,255,255,.2);display:grid;place-items:center;overflow:hidden}",
    ".avatar img{width:100%;height:100%;object-fit:cover}.avatar svg{width:20px;height:20px;fill:currentColor}",
    "h2{margin:0;font-size:16px;font-weight:650;line-height:1.25}",
    ".sub{margin:2px 0 0;font-size:12.5px;opacity:.95}",
    ".heading{flex:1;min-width:0}",
    ".close{background:transparent;border:0;color:inherit;width:36px;height:36px;border-radius:8px;cursor:pointer;display:grid;place-items:center}",
    ".close:hover{background:rgba(127,127,127,.25)}.close svg{width:20px;height:20px;fill:currentColor}",
    ".log{flex:1;overflow-y:auto;padding:16px 14px 8px;background:#f8fafc;display:flex;flex-direction:column;gap:10px;overscroll-behavior:contain}",
    ".msg{display:flex;flex-direction:column;max-width:85%}",
    ".msg.bot{align-self:flex-start}.msg.user{align-self:flex-end;align-items:flex-end}",
    ".bubble{padding:9px 13px;border-radius:16px;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word}",
    ".bot .bubble{background:#fff;border:1px solid #e5e7eb;border-bottom-left-radius:4px}",
    ".user .bubble{background:var(--brand);color:var(--ink);border-bottom-right-radius:4px}",
    ".bubble a{color:var(--accent);text-decoration:underline;text-underline-offset:2px}",
    ".user .bubble a{color:inherit}",
    ".bubble img{display:block;max-width:100%;border-radius:8px;margin-top:4px}",
    ".meta{font-size:11.5px;color:#4b5563;margin:3px 4px 0}",
    ".meta.warn{color:#9a3412}",
    ".author{display:block;font-size:12px;font-weight:600;color:#166534;margin-bottom:2px}",
    ".person .bubble{border-color:#86efac;background:#f0fdf4}",
    ".replies{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px}",
    ".replies button{background:#fff;color:var(--accent);border:1.5px solid var(--accent);border-radius:999px;padding:6px 13px;cursor:pointer;font-weight:550;font-size:14px}",
    ".replies button:hover{background:var(--accent);color:#fff}",
    ".policy{font-size:12.5px;margin-top:6px}.policy a{color:var(--accent)}",
    ".typing{align-self:flex-start;display:flex;gap:4px;padding:12px 14px;margin:0 14px 6px;background:#fff;border:1px solid #e5e7eb;border-radius:16px;border-bottom-left-radius:4px;width:max-content}",
    ".typing i{width:7px;height:7px;border-radius:50%;background:#6b7280;display:block}",
    "@media (prefers-reduced-motion:no-preference){.typing i{animation:lb-dot 1.2s infinite}.typing i:nth-child(2){animation-delay:.15s}.typing i:nth-child(3){animation-delay:.3s}}",
    "@keyframes lb-dot{0%,60%,100%{opacity:.35;transform:none}30%{opacity:1;transform:translateY(-3px)}}",
    ".banner{display:flex;align-items:center;gap:10px;padding:9px 14px;background:#fef2f2;color:#7f1d1d;border-top:1px solid #fecaca;font-size:13.5px}",
    ".banner span{flex:1}",
    ".banner button{background:#7f1d1d;color:#fff;border:0;border-radius:8px;padding:6px 12px;cursor:pointer;font-weight:600}",
    "form{display:flex;align-items:flex-end;gap:8px;padding:10px 12px;border-top:1px solid #e5e7eb;background:#fff}",
    "textarea{flex:1;resize:none;border:1.5px solid #9ca3af;border-radius:12px;padding:9px 12px;max-height:120px;min-height:42px;line-height:1.4;background:#fff}",
    "textarea:focus-visible{outline:none;border-color:var(--accent);box-shadow:0 0 0 3px color-mix(in srgb,var(--accent) 30%,transparent)}",
    "textarea::placeholder{color:#6b7280}",
    ".send{width:42px;height:42px;flex:none;border:0;border-radius:12px;background:var(--accent);color:#fff;cursor:pointer;display:grid;place-items:center}",
    ".send svg{width:20px;height:20px;fill:currentColor}",
    ".foot{padding:0 14px 8px;background:#fff;font-size:12px;color:#4b5563;display:flex;justify-content:space-between}",
    ".foot a{color:#4b5563}",
    "@media (max-width:520px){.panel{inset:0!important;width:100%;height:100%;border-radius:0;border:0}.open .launcher,.open .teaser{display:none}}"
  ].join("\n");

  // ---- the widget ---------------------------------------------------------------------------
  function Widget(options, initialListeners) {
    var self = this;
    var o = options;
    var t = STRINGS[o.lang];
    var key = "leadbot:v1:" + o.server;
    var state = loadState(key);
    var transport = restTransport(o.server, o.timeout);
    var listeners = initialListeners || {};
    var busy = false, attempt = 0, retryTimer = null, countdownTimer = null;
    var quiet = false; // after "forget me": store nothing until the visitor writes again

    recordFirstTouch(state);

    function save() {
      if (quiet) return;
      state.updated = Date.now();
      if (state.messages.length > TRANSCRIPT_MAX) state.messages = state.messages.slice(-TRANSCRIPT_MAX);
      local.set(key, state);
    }

    function emit(name, detail) {
      (listeners[name] || []).slice().forEach(function (fn) {
        try { fn(detail); } catch (e) { if (window.console) console.error(e); }
      });
    }

    // DOM
    var host = document.createElement(TAG);
    var shadow = host.attachShadow({ mode: "open" });
    var colors = palette(o.color);
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      shadow.adoptedStyleSheets = [sheet];
    } catch (e) {
      shadow.appendChild(el("style", { text: CSS })); // older browsers
    }
    var root = el("div", { class: "root " + o.position, lang: o.lang });
    root.style.setProperty("--brand", colors.brand);
    root.style.setProperty("--ink", colors.ink);
    root.style.setProperty("--accent", colors.accent);

    var titleText = o.title || t.title;
    var avatar = el("div", { class: "avatar", "aria-hidden": "true" },
      [o.avatar ? el("img", { src: o.avatar, alt: "" }) : svg(ICON_CHAT)]);
    var closeButton = el("button", { class: "close", type: "button", "aria-label": t.close }, [svg(ICON_CLOSE)]);
    var log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": t.log, tabindex: "0" });
    var typing = el("div", { class: "typing", role: "status", hidden: "" },
      [el("i", { "aria-hidden": "true" }), el("i", { "aria-hidden": "true" }), el("i", { "aria-hidden": "true" }),
        el("span", { class: "sr", text: titleText + " " + t.typing })]);
    var bannerText = el("span", {});
    var retryButton = el("button", { type: "button", text: t.retry });
    var banner = el("div", { class: "banner", role: "alert", hidden: "" }, [bannerText, retryButton]);
    var textarea = el("textarea", { id: "lb-input", rows: "1", placeholder: t.placeholder,
      maxlength: "2000", autocomplete: "off", enterkeyhint: "send" });
    var form = el("form", { novalidate: "" }, [
      el("label", { for: "lb-input", class: "sr", text: t.message }), textarea,
      el("button", { class: "send", type: "submit", "aria-label": t.send }, [svg(ICON_SEND)])
    ]);
    var foot = el("div", { class: "foot" }, [
      o.privacyUrl ? el("a", { href: o.privacyUrl, target: "_blank", rel: "noopener noreferrer", text: t.privacy }) : null
    ]);
    var panel = el("section", { class: "panel", id: "lb-panel", "aria-labelledby": "lb-title", hidden: "" }, [
      el("header", {}, [avatar, el("div", { class: "heading" }, [
        el("h2", { id: "lb-title", text: titleText }), el("p", { class: "sub", text: t.subtitle })]), closeButton]),
      log, typing, banner, form, foot
    ]);
    var launcher = el("button", { class: "launcher", type: "button", "aria-label": t.open,
      "aria-expanded": "false", "aria-controls": "lb-panel" }, [svg(ICON_CHAT)]);
    var teaserOpen = el("button", { type: "button", text: o.greeting });
    var teaserClose = el("button", { type: "button", class: "x", "aria-label": t.dismiss }, [svg(ICON_CLOSE)]);
    var teaser = el("div", { class: "teaser", hidden: "" }, [teaserOpen, teaserClose]);
    root.appendChild(panel); root.appendChild(teaser); root.appendChild(launcher);
    shadow.appendChild(root);

    // Rendering
    function time(ts) {
      var d = new Date(ts);
      var label;
      try { label = d.toLocaleTimeString(o.lang, { hour: "2-digit", minute: "2-digit" }); } catch (e) { label = ""; }
      return el("time", { datetime: d.toISOString(), text: label });
    }

    function statusText(m) {
      if (m.status === "sending") return t.sending;
      if (m.status === "queued") return t.notSent;
      if (m.status === "failed") return t.failed;
      return "";
    }

    function renderMessage(m, showReplies) {
      var bubble = el("div", { class: "bubble" }, [el("span", { class: "sr", text: (m.from === "user" ? t.you : (m.author || titleText)) + ": " })]);
      if (m.author) bubble.appendChild(el("span", { class: "author", "aria-hidden": "true", text: m.author }));
      if (m.text) renderText(bubble, m.text);
      if (m.image) {
        var src = safeUrl(m.image, ["http:", "https:"]);
        if (src) bubble.appendChild(el("img", { src: src, alt: "", loading: "lazy" }));
      }
      var meta = el("div", { class: "meta" + (m.status === "queued" || m.status === "failed" ? " warn" : "") }, [time(m.ts)]);
      var status = statusText(m);
      if (status) meta.appendChild(document.createTextNode(" · " + status));
      var node = el("div", { class: "msg " + (m.from === "user" ? "user" : "bot") + (m.author ? " person" : ""), "data-id": m.id }, [bubble, meta]);
      if (m.from === "bot" && showReplies && m.buttons && m.buttons.length) {
        var group = el("div", { class: "replies", role: "group", "aria-label": t.replies });
        m.buttons.forEach(function (b) {
          var button = el("button", { type: "button", text: String(b.title || b.payload || "") });
          button.addEventListener("click", function () { self.send(String(b.payload || b.title), String(b.title || b.payload)); });
          group.appendChild(button);
        });
        node.appendChild(group);
        // A consent question always shows where the privacy policy is, and is never pre-answered.
        if (/privacy|consent|store your answers|datenschutz/i.test(m.text || "") && !/https?:\/\//.test(m.text || "") && o.privacyUrl) {
          node.appendChild(el("div", { class: "policy" }, [el("a", { href: o.privacyUrl, target: "_blank", rel: "noopener noreferrer", text: t.privacy })]));
        }
      }
      return node;
    }

    // Quick replies stay only on the bot's messages since the visitor last said something.
    function render() {
      while (log.firstChild) log.removeChild(log.firstChild);
      var lastUser = -1;
      state.messages.forEach(function (m, i) { if (m.from === "user") lastUser = i; });
      state.messages.forEach(function (m, i) { log.appendChild(renderMessage(m, i > lastUser)); });
      log.scrollTop = log.scrollHeight;
    }

    function append(m) {
      state.messages.push(m);
      save();
      if (m.from === "user") {
        var stale = log.querySelectorAll(".replies, .policy");
        for (var i = 0; i < stale.length; i++) stale[i].remove();
      }
      log.appendChild(renderMessage(m, m.from === "bot"));
      log.scrollTop = log.scrollHeight;
    }

    function updateStatus(id, status) {
      state.messages.forEach(function (m) { if (m.id === id) m.status = status; });
      save();
      var node = log.querySelector('[data-id="' + id + '"]');
      if (node) {
        var m = state.messages.filter(function (x) { return x.id === id; })[0];
        if (m) node.replaceWith(renderMessage(m, false));
      }
    }

    // Sending: a persistent outbox, one request at a time, in order
    function showBanner(text, withRetry) {
      bannerText.textContent = text;
      retryButton.hidden = !withRetry;
      banner.hidden = false;
    }
    function hideBanner() { banner.hidden = true; clearInterval(countdownTimer); }

    function scheduleRetry(error) {
      var delay = error.retryAfter || BACKOFF_S[Math.min(attempt, BACKOFF_S.length - 1)];
      delay = Math.max(1, Math.round(delay * (0.8 + Math.random() * 0.4)));
      attempt++;
      var remaining = delay;
      clearTimeout(retryTimer); clearInterval(countdownTimer);
      var tick = function () {
        showBanner(t.offline + " " + format(t.retryIn, { s: remaining }), true);
        remaining--;
      };
      tick();
      countdownTimer = setInterval(tick, 1000);
      retryTimer = setTimeout(function () { retryTimer = null; clearInterval(countdownTimer); pump(); }, delay * 1000);
    }

    function pump() {
      if (busy || !state.pending.length || retryTimer) return;
      busy = true;
      var item = state.pending[0];
      typing.hidden = false;
      log.scrollTop = log.scrollHeight;
      if (!item.hidden) updateStatus(item.id, "sending");
      var ready = state.token ? Promise.resolve() : transport.session().then(function (minted) {
        state.sender = minted.sender; state.token = minted.session; save();
      });
      ready.then(function () {
        return transport.send({ sender: state.sender, session: state.token, message: item.payload,
          metadata: item.metadata, message_id: item.id });
      })
        .then(function (replies) {
          state.pending.shift();
          attempt = 0;
          hideBanner();
          if (!item.hidden) updateStatus(item.id, "sent");
          typing.hidden = true;
          var erased = false;
          replies.forEach(function (r) {
            if (r && r.custom && HANDOFF_OPEN.indexOf(r.custom.handoff) >= 0) { state.handoff = true; save(); listen(); }
            if (r && r.custom && r.custom.leadbot === "erased") erased = true;
            if (!r || (typeof r.text !== "string" && !r.image)) return;
            var m = { id: uuid(), from: "bot", text: typeof r.text === "string" ? r.text : "", ts: Date.now() };
            if (Array.isArray(r.buttons)) {
              m.buttons = r.buttons.filter(function (b) { return b && (b.payload || b.title); })
                .map(function (b) { return { title: String(b.title || ""), payload: String(b.payload || b.title) }; });
            }
            if (typeof r.image === "string") m.image = r.image;
            append(m);
            emit("message", { from: "bot", text: m.text, buttons: m.buttons || [], at: performance.now() });
          });
          if (erased) forgetBrowser();
        }, function (error) {
          typing.hidden = true;
          emit("error", { error: error.message, status: error.status });
          if ((error.status === 401 || error.status === 403) &&
              (error.message === "invalid_session" || error.message === "session_required") &&
              !item.newSession) {
            // The server doesn't know this session (another server's key, a tampered store):
            // start a fresh conversation and send the message there, once.
            item.newSession = true;
            state.sender = ""; state.token = "";
            if (!item.hidden) updateStatus(item.id, "queued");
            return;
          }
          if (error.retryable) {
            if (!item.hidden) updateStatus(item.id, "queued");
            scheduleRetry(error);
            return;
          }
          // Refused for good (400/403/413): keep the text for the visitor, never drop it.
          state.pending.shift();
          if (!item.hidden) updateStatus(item.id, "failed");
          showBanner(error.status === 403 ? t.refused : t.failed, false);
          if (error.status === 403 && window.console) {
            console.warn("Leadbot: this site's origin is not in the server's ALLOWED_ORIGINS (" + location.origin + ")");
          }
          if (!item.hidden && !textarea.value) { textarea.value = item.display; saveDraft(); }
        })
        .then(function () {
          busy = false;
          save();
          if (!retryTimer) pump();
        });
    }

    // Handoff: while a person may write, long-poll for their messages (and the bot's own)
    var polling = false, pollFailures = 0;
    function botMessage(r) {
      var m = { id: uuid(), from: "bot", text: typeof r.text === "string" ? r.text : "", ts: Date.now() };
      if (typeof r.rep_name === "string" && r.rep_name) m.author = r.rep_name.slice(0, 80);
      if (Array.isArray(r.buttons)) {
        m.buttons = r.buttons.filter(function (b) { return b && (b.payload || b.title); })
          .map(function (b) { return { title: String(b.title || ""), payload: String(b.payload || b.title) }; });
      }
      return m;
    }
    function listen() {
      if (polling || !state.handoff) return;
      polling = true;
      transport.poll(state.sender, typeof state.cursor === "number" ? state.cursor : null, state.token)
        .then(function (body) {
          pollFailures = 0;
          (body.messages || []).forEach(function (r) {
            if (!r || typeof r.text !== "string" || !r.text) return;
            var m = botMessage(r);
            append(m);
            emit("message", { from: m.author ? "person" : "bot", text: m.text, buttons: m.buttons || [], at: performance.now() });
          });
          if (typeof body.cursor === "number") state.cursor = body.cursor;
          if (HANDOFF_OPEN.indexOf(body.state) < 0) state.handoff = false;
          save();
          polling = false;
          if (state.handoff) setTimeout(listen, 0);
        }, function (error) {
          polling = false;
          if (!error.retryable && error.status) { state.handoff = false; save(); return; } // no such endpoint here
          pollFailures++;
          setTimeout(listen, 1000 * BACKOFF_S[Math.min(pollFailures, BACKOFF_S.length - 1)]);
        });
    }

    // "Forget me" succeeded: the server erased the conversation, so this browser keeps nothing
    // of it either (transcript, session, drafts). The confirmation stays on screen only.
    function forgetBrowser() {
      var shown = state.messages.length ? [state.messages[state.messages.length - 1]] : [];
      local.remove(key);
      state = emptyState();
      state.open = !panel.hidden;
      state.messages = shown;
      quiet = true;
      render();
      emit("erased", {});
    }

    function retryNow() {
      clearTimeout(retryTimer); clearInterval(countdownTimer); retryTimer = null;
      showBanner(t.retrying, false);
      pump();
    }

    function enqueue(payload, display, hidden) {
      quiet = false;
      var item = { id: uuid().replace(/-/g, ""), payload: payload, display: display,
        metadata: pageMetadata(state), hidden: !!hidden, ts: Date.now() };
      state.pending.push(item);
      if (!hidden) {
        append({ id: item.id, from: "user", text: display, ts: item.ts, status: "sending" });
        emit("send", { text: display, payload: payload });
      } else {
        save();
      }
      pump();
    }

    // Open / close
    function setOpen(open, byUser) {
      if (open === state.open && !panel.hidden === open) return;
      state.open = open;
      panel.hidden = !open;
      teaser.hidden = true;
      root.classList.toggle("open", open);
      launcher.setAttribute("aria-expanded", String(open));
      launcher.setAttribute("aria-label", open ? t.hide : t.open);
      save();
      if (open) {
        session.set(key + ":proactive", 1); // the visitor has seen it; no proactive open after
        if (!state.messages.length && !state.pending.length && o.startMessage) enqueue(o.startMessage, "", true);
        log.scrollTop = log.scrollHeight;
        if (byUser !== false) textarea.focus();
        emit("open", {});
      } else {
        if (byUser !== false) launcher.focus();
        emit("close", {});
      }
    }

    function saveDraft() { state.draft = textarea.value; save(); }

    function autosize() {
      textarea.style.height = "auto";
      textarea.style.height = Math.min(textarea.scrollHeight + 3, 120) + "px";
    }

    // Events
    launcher.addEventListener("click", function () { setOpen(!state.open); });
    closeButton.addEventListener("click", function () { setOpen(false); });
    teaserOpen.addEventListener("click", function () { setOpen(true); });
    teaserClose.addEventListener("click", function () {
      teaser.hidden = true; state.teaserDismissed = true; save(); launcher.focus();
    });
    retryButton.addEventListener("click", retryNow);
    panel.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { e.preventDefault(); setOpen(false); }
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var text = textarea.value;
      if (!text.trim()) { textarea.focus(); return; }
      textarea.value = "";
      autosize();
      saveDraft();
      self.send(text);
      textarea.focus();
    });
    textarea.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", { cancelable: true })); }
    });
    textarea.addEventListener("input", function () { saveDraft(); autosize(); });
    window.addEventListener("online", function () { if (state.pending.length) retryNow(); });
    window.addEventListener("storage", function (e) {
      // Another tab of the same site talked to the bot: show the same conversation here.
      if (e.key !== key || busy) return;
      var next = loadState(key);
      if (!state.sender && next.sender && !state.pending.length) {
        state.sender = next.sender; state.token = next.token; // the other tab started the session
      }
      if (next.sender !== state.sender) return;
      state.messages = next.messages;
      render();
    });

    // Proactive rules: open after N seconds, on some paths, for some campaigns; once a session.
    function proactive() {
      if (o.openAfter === null || state.open || session.get(key + ":proactive")) return;
      var path = location.pathname;
      if (o.openOn.length && !o.openOn.some(function (p) {
        return p.slice(-1) === "*" ? path.indexOf(p.slice(0, -1)) === 0 : path === p || path === p + "/";
      })) return;
      var md = pageMetadata(state);
      if (!o.openIf.every(function (rule) {
        var kv = rule.split("=");
        return kv.length === 2 && (md[kv[0].trim()] || "") === kv[1].trim();
      })) return;
      setTimeout(function () {
        if (state.open || session.get(key + ":proactive")) return;
        session.set(key + ":proactive", 1);
        if (window.matchMedia && window.matchMedia("(max-width: 520px)").matches) {
          if (o.greeting) teaser.hidden = false; // never cover a phone screen uninvited
          return;
        }
        setOpen(true, false);
      }, o.openAfter * 1000);
    }

    // Public methods
    this.open = function () { setOpen(true); };
    this.close = function () { setOpen(false); };
    this.toggle = function () { setOpen(!state.open); };
    this.send = function (payload, display) {
      if (typeof payload !== "string" || !payload.trim()) return;
      if (!state.open) setOpen(true, false);
      enqueue(payload, typeof display === "string" ? display : payload, false);
    };
    this.on = function (name, fn) {
      (listeners[name] = listeners[name] || []).push(fn);
      return function () { listeners[name] = (listeners[name] || []).filter(function (f) { return f !== fn; }); };
    };
    this.reset = function () {
      local.remove(key); session.remove(key + ":proactive");
      state = emptyState(); polling = false;
      render();
    };
    this.sender = function () { return state.sender; };
    this.destroy = function () { host.remove(); };

    // Start
    textarea.value = state.draft || "";
    render();
    var body = document.body || document.documentElement;
    body.appendChild(host);
    autosize();
    if (state.open) setOpen(true, false);
    else if (o.greeting && !state.teaserDismissed && !state.messages.length) teaser.hidden = false;
    if (state.pending.length) pump(); // resend what a reload or a closed tab interrupted
    listen(); // a person was (or may be) in this conversation before the reload
    proactive();
    save();
    emit("ready", { version: VERSION });
  }

  // ---- the one global -----------------------------------------------------------------------
  var widget = null;
  var early = {};
  var api = {
    version: VERSION,
    init: function (options) {
      if (widget) return api;
      var o = readOptions(options);
      var start = function () {
        widget = new Widget(o, early);
        early = {};
      };
      if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
      return api;
    },
    open: function () { if (widget) widget.open(); },
    close: function () { if (widget) widget.close(); },
    toggle: function () { if (widget) widget.toggle(); },
    send: function (text) { if (widget) widget.send(text); },
    reset: function () { if (widget) widget.reset(); },
    on: function (name, fn) {
      if (widget) return widget.on(name, fn);
      (early[name] = early[name] || []).push(fn);
      return function () { early[name] = (early[name] || []).filter(function (f) { return f !== fn; }); };
    },
    get sender() { return widget ? widget.sender() : null; }
  };
  try {
    Object.defineProperty(window, "Leadbot", { value: Object.freeze(api), configurable: true });
  } catch (e) {
    window.Leadbot = api;
  }
  if (readOptions().autoInit) api.init();
})();
