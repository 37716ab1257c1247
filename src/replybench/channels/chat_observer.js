// Installed by replybench's chat channel before any page script runs (Playwright init script).
// A MutationObserver (no polling) watches the page; whenever something changes it looks at the chat's message
// log and reports every new message, stamped with the page's high-resolution clock at the moment the observer
// saw it, and every change of a message's delivery status. It only reads the page, never changes it.
(function (config) {
  "use strict";
  if (window.__replybenchChatObserver) return;
  window.__replybenchChatObserver = true;

  const stamp = () => performance.timeOrigin + performance.now();
  const seen = new WeakMap();
  let next = 0;

  const AUTHORS = [
    ["visitor", /^(visitor|user|customer|client|guest|me|self|own|mine|outgoing|outbound|end-?user|contact|you)$/],
    ["bot", /^(bot|chatbot|assistant|virtual|ai|automated|automatic|auto|robot)$/],
    ["agent", /^(agent|operator|human|staff|support|admin|representative|rep|advisor|employee|person)$/],
    ["system", /^(system|info|notice|event|notification|meta)$/],
  ];
  const AUTHOR_ATTRIBUTES = ["data-author", "data-sender", "data-from", "data-author-type", "data-role", "data-type"];
  const STATUS_ATTRIBUTES = ["data-status", "data-state", "data-delivery", "data-delivery-status"];
  const STATUS_WORDS = /^(sending|pending|queued|sent|delivered|received|read|seen|failed|error|undelivered)$/;

  function authorWord(word) {
    for (const [author, pattern] of AUTHORS) if (pattern.test(word)) return author;
    return null;
  }

  function classTokens(el) {
    const name = typeof el.className === "string" ? el.className : el.getAttribute("class") || "";
    const parts = [];
    for (const token of name.toLowerCase().split(/\s+/)) if (token) parts.push(...token.split(/[-_]+/));
    return parts;
  }

  function authorOf(el) {
    for (const attribute of AUTHOR_ATTRIBUTES) {
      const value = el.getAttribute(attribute);
      if (value) {
        const found = authorWord(value.trim().toLowerCase());
        if (found) return found;
      }
    }
    for (const part of classTokens(el)) {
      const found = authorWord(part);
      if (found) return found;
    }
    return "unknown";
  }

  function statusOf(el) {
    for (const attribute of STATUS_ATTRIBUTES) {
      const value = el.getAttribute(attribute);
      if (value) return value.trim().toLowerCase();
    }
    for (const part of classTokens(el)) if (STATUS_WORDS.test(part)) return part;
    return "";
  }

  function textOf(el) {
    const node = el.querySelector(config.text);
    const raw = node ? node.innerText || node.textContent : el.innerText || el.textContent;
    return (raw || "").trim();
  }

  function nameOf(el) {
    const node = el.querySelector(config.name);
    const attribute = el.getAttribute("data-name") || el.getAttribute("data-agent-name");
    return ((node && node.textContent) || attribute || "").trim() || null;
  }

  function avatarOf(el) {
    const img = el.querySelector(config.avatar);
    return (img && (img.currentSrc || img.src)) || null;
  }

  function header() {
    const name = document.querySelector(config.agentName);
    const avatar = document.querySelector(config.agentAvatar);
    return {
      agent_name: (name && name.textContent.trim()) || null,
      agent_avatar: (avatar && (avatar.currentSrc || avatar.src)) || null,
    };
  }

  function report(payload) {
    const binding = window[config.binding];
    if (typeof binding !== "function") return;
    try {
      Promise.resolve(binding(payload)).catch(() => {});
    } catch (e) {
      // the page is going away
    }
  }

  function items(log) {
    const marked = log.querySelectorAll(config.item);
    return marked.length ? marked : log.children;
  }

  // Widgets that re-render their whole list replace every bubble with a new element: a bubble whose author
  // and text were reported already (as often as they occur now) is the same message, not a new one.
  const keysBySignature = new Map();
  const statusByKey = new Map();

  function scan() {
    const at = stamp();
    const log = document.querySelector(config.log);
    if (!log) return;
    const occurrences = new Map();
    for (const el of items(log)) {
      let state = seen.get(el);
      if (state === undefined) {
        const text = textOf(el);
        if (!text) continue; // a typing indicator, or a bubble still empty
        const author = authorOf(el);
        const signature = author + "\u0001" + text;
        const nth = (occurrences.get(signature) || 0) + 1;
        occurrences.set(signature, nth);
        const keys = keysBySignature.get(signature) || [];
        keysBySignature.set(signature, keys);
        state = { key: nth <= keys.length ? keys[nth - 1] : next++, status: statusOf(el), signature: signature };
        seen.set(el, state);
        if (nth <= keys.length) {
          if (statusByKey.get(state.key) !== state.status) {
            statusByKey.set(state.key, state.status);
            report({ kind: "status", key: state.key, at: at, status: state.status });
          }
          continue;
        }
        keys.push(state.key);
        statusByKey.set(state.key, state.status);
        report(
          Object.assign(
            {
              kind: "message",
              key: state.key,
              at: at,
              author: author,
              text: text,
              name: nameOf(el),
              avatar: avatarOf(el),
              status: state.status,
            },
            header()
          )
        );
      } else {
        occurrences.set(state.signature, (occurrences.get(state.signature) || 0) + 1);
        const status = statusOf(el);
        if (status !== state.status) {
          state.status = status;
          statusByKey.set(state.key, status);
          report({ kind: "status", key: state.key, at: at, status: status });
        }
      }
    }
  }

  new MutationObserver(scan).observe(document, {
    subtree: true,
    childList: true,
    attributes: true,
    characterData: true,
  });
})(__CONFIG__);
