// The sandbox's chat widget: opens a WebSocket when the launcher is clicked and renders the conversation.
(function () {
  "use strict";
  const root = document.getElementById("chat-widget");
  if (!root) return;
  const base = root.dataset.base;
  const launcher = root.querySelector(".chat-launcher");
  const panel = root.querySelector(".chat-panel");
  const log = root.querySelector(".chat-log");
  const compose = root.querySelector(".chat-compose");
  const input = compose.querySelector("textarea");
  const status = root.querySelector(".chat-status");
  const agentName = root.querySelector(".agent-name");
  const agentAvatar = root.querySelector(".agent-avatar");
  const offline = root.querySelector(".chat-offline");
  const offlineError = offline.querySelector(".offline-error");
  const thanks = root.querySelector(".offline-thanks");
  let socket = null;
  let counter = 0;

  function item(author, text, name, avatar) {
    const li = document.createElement("li");
    li.className = "chat-msg from-" + author;
    li.dataset.author = author;
    if (avatar) {
      const img = document.createElement("img");
      img.className = "avatar";
      img.src = avatar;
      img.alt = "";
      img.width = 28;
      img.height = 28;
      li.appendChild(img);
    }
    const body = document.createElement("div");
    if (name) {
      const who = document.createElement("span");
      who.className = "author-name";
      who.textContent = name;
      body.appendChild(who);
    }
    const p = document.createElement("p");
    p.className = "msg-text";
    p.textContent = text;
    body.appendChild(p);
    li.appendChild(body);
    return li;
  }

  function append(li) {
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
  }

  function onEvent(event) {
    let data;
    try {
      data = JSON.parse(event.data);
    } catch (e) {
      return;
    }
    if (data.type === "mode") {
      root.dataset.conversation = data.conversation || "";
      if (data.mode === "online") {
        status.textContent = "Online";
        compose.hidden = false;
        input.focus();
      } else {
        status.textContent = "Offline";
        offline.hidden = false;
      }
    } else if (data.type === "message") {
      append(item(data.author, data.text, data.name, data.avatar));
    } else if (data.type === "agent") {
      agentName.textContent = data.name;
      agentAvatar.src = data.avatar;
    } else if (data.type === "ack") {
      const mine = log.querySelector('[data-client-id="' + CSS.escape(data.client_id) + '"]');
      if (mine) mine.dataset.status = "delivered";
    }
  }

  function open() {
    if (socket) return;
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const lang = encodeURIComponent(navigator.language || "en");
    socket = new WebSocket(scheme + "//" + location.host + base + "/ws?lang=" + lang);
    socket.addEventListener("message", onEvent);
    socket.addEventListener("close", function () {
      status.textContent = "Disconnected";
    });
  }

  function send() {
    const text = input.value.trim();
    if (!text || !socket || socket.readyState !== WebSocket.OPEN) return;
    const id = "c" + ++counter;
    const li = item("visitor", text, null, null);
    li.dataset.clientId = id;
    li.dataset.status = "sending";
    append(li);
    socket.send(JSON.stringify({ type: "message", client_id: id, text: text }));
    input.value = "";
  }

  launcher.addEventListener("click", open);
  compose.addEventListener("submit", function (event) {
    event.preventDefault();
    send();
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      send();
    }
  });
  offline.addEventListener("submit", async function (event) {
    event.preventDefault();
    const form = new FormData(offline);
    const payload = {};
    for (const [key, value] of form.entries()) payload[key] = String(value);
    offlineError.hidden = true;
    let answer;
    try {
      const response = await fetch(base + "/offline", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(payload),
      });
      answer = await response.json();
    } catch (e) {
      answer = { ok: false, errors: { form: "network error" } };
    }
    if (answer.ok) {
      offline.hidden = true;
      thanks.hidden = false;
    } else {
      offlineError.textContent = Object.keys(answer.errors || {}).join(", ") + ": please check";
      offlineError.hidden = false;
    }
  });
})();
