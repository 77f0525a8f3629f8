// The sandbox page: who you are, the channels, the bot's messages, the modal, the switches.
// It polls /sandbox/state and sends what you do to /sandbox/<verb>; the workspace behind it
// turns that into the signed requests Slack would send the bot.
"use strict";

(function () {
  const { el } = window.BlockKit;
  const $ = (id) => document.getElementById(id);
  const COMMAND = "/sis-maint";
  const POLL_MS = 700;
  const app = {
    me: localStorage.getItem("sandbox.me") || "",
    view: "",
    state: null,
    lastJson: "",
    seen: null,
    modalKey: "",
    modalForm: null,
    timer: null,
  };

  function order(ts) {
    return Number(String(ts).split(".")[1] || 0);
  }

  function note(text) {
    $("composer-note").textContent = text || "";
  }

  async function send(verb, body) {
    const res = await fetch(`/sandbox/${verb}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user: app.me, ...body }),
    });
    let answer = {};
    try {
      answer = await res.json();
    } catch (e) {
      answer = {};
    }
    poll();
    if (!res.ok || !answer.ok) throw new Error(answer.error || `HTTP ${res.status}`);
  }

  async function poll() {
    clearTimeout(app.timer);
    try {
      const res = await fetch(`/sandbox/state?user=${encodeURIComponent(app.me)}`);
      const text = await res.text();
      if (!res.ok) throw new Error(text);
      if (text !== app.lastJson) {
        app.lastJson = text;
        app.state = JSON.parse(text);
        render();
      }
      document.body.classList.remove("offline");
    } catch (e) {
      document.body.classList.add("offline");
      note("The sandbox is not answering: is sis-maint still running?");
    }
    app.timer = setTimeout(poll, POLL_MS);
  }

  function context(where) {
    const s = app.state;
    const people = Object.fromEntries(s.people.map((p) => [p.id, p.name]));
    people[s.bot.id] = s.bot.name;
    const channels = Object.fromEntries(s.channels.map((c) => [c.id, c.name]));
    return {
      people,
      channels,
      onPress(block, element, button) {
        button.disabled = true;
        send("press", { where, block, element }).catch((e) => {
          button.disabled = false;
          note(`That button did not work: ${e.message}`);
        });
      },
    };
  }

  function render() {
    const s = app.state;
    if (s.me !== app.me) {
      app.me = s.me;
      app.seen = null;
    }
    if (!app.view || (app.view !== "home" && !s.channels.some((c) => c.id === app.view))) {
      app.view = s.channels[0].id;
    }
    if (app.seen === null) {
      app.seen = {};
      s.messages.forEach((m) => {
        app.seen[m.channel] = Math.max(app.seen[m.channel] || 0, order(m.ts));
      });
    }
    renderPeople(s);
    renderSidebar(s);
    renderMain(s);
    renderSwitches(s.switches);
    renderModal(s.modal);
  }

  function renderPeople(s) {
    const who = $("who");
    const key = JSON.stringify(s.people);
    if (who.dataset.key !== key) {
      who.replaceChildren(
        ...s.people.map((p) => {
          const option = el("option", "", `${p.name}, ${p.title}${p.approver ? " (approver)" : ""}`);
          option.value = p.id;
          return option;
        }),
      );
      who.dataset.key = key;
    }
    who.value = s.me;
  }

  function renderSidebar(s) {
    const unread = {};
    s.messages.forEach((m) => {
      if (m.channel !== app.view && order(m.ts) > (app.seen[m.channel] || 0)) {
        unread[m.channel] = (unread[m.channel] || 0) + 1;
      }
    });
    const item = (c) => {
      const button = el("button", `channel${c.id === app.view ? " active" : ""}`);
      button.type = "button";
      button.dataset.channel = c.id;
      button.append(c.kind === "dm" ? c.name : `# ${c.name}`);
      if (unread[c.id]) button.append(el("span", "badge", unread[c.id]));
      button.addEventListener("click", () => show(c.id));
      return el("li").appendChild(button).parentNode;
    };
    $("channel-list").replaceChildren(...s.channels.filter((c) => c.kind !== "dm").map(item));
    $("dm-list").replaceChildren(...s.channels.filter((c) => c.kind === "dm").map(item));
    $("home-tab").classList.toggle("active", app.view === "home");
  }

  function show(view) {
    app.view = view;
    if (view === "home") {
      send("home", {}).catch((e) => note(`The Home tab did not open: ${e.message}`));
    }
    render();
  }

  function renderMain(s) {
    const box = $("messages");
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 60;
    const home = app.view === "home";
    $("composer").hidden = home;
    box.replaceChildren();
    if (home) {
      $("channel-title").textContent = "sis-maint Home";
      box.append(
        s.home
          ? window.BlockKit.blocks(s.home.blocks, context({ home: true }))
          : el("p", "muted empty", "Opening the Home tab…"),
      );
      return;
    }
    const channel = s.channels.find((c) => c.id === app.view);
    $("channel-title").textContent = channel.kind === "dm" ? "sis-maint (direct messages)" : `# ${channel.name}`;
    const here = s.messages.filter((m) => m.channel === app.view);
    const replies = {};
    here.filter((m) => m.thread_ts && m.thread_ts !== m.ts).forEach((m) => {
      (replies[m.thread_ts] = replies[m.thread_ts] || []).push(m);
    });
    const top = here.filter((m) => !m.thread_ts || m.thread_ts === m.ts);
    top.forEach((m) => {
      const node = message(m);
      const thread = replies[m.ts];
      if (thread) {
        const box2 = node.appendChild(el("div", "thread"));
        box2.append(el("div", "thread-label", `${thread.length} ${thread.length === 1 ? "reply" : "replies"}`));
        thread.forEach((r) => box2.append(message(r)));
      }
      box.append(node);
    });
    if (!top.length) {
      box.append(el("p", "muted empty", `Nothing here yet. Type ${COMMAND} help below.`));
    }
    here.forEach((m) => {
      app.seen[m.channel] = Math.max(app.seen[m.channel] || 0, order(m.ts));
    });
    if (atBottom) box.scrollTop = box.scrollHeight;
  }

  function message(m) {
    const node = el("article", m.ephemeral ? "msg ephemeral" : "msg");
    node.dataset.ts = m.ts;
    const head = node.appendChild(el("div", "msg-head"));
    head.append(el("span", "sender", m.from === "slackbot" ? "Slackbot" : app.state.bot.name));
    if (m.from !== "slackbot") head.append(el("span", "app-badge", "APP"));
    const when = new Date(Number(String(m.ts).split(".")[0]) * 1000);
    head.append(el("span", "muted", when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })));
    if (m.edited) head.append(el("span", "muted", "(edited)"));
    if (m.ephemeral) head.append(el("span", "only-you", "Only visible to you"));
    if (m.echo) node.append(el("div", "echo", m.echo));
    const ctx = context({ ts: m.ts });
    const hasBlocks = Array.isArray(m.blocks) && m.blocks.length > 0;
    node.append(hasBlocks ? window.BlockKit.blocks(m.blocks, ctx) : window.BlockKit.mrkdwn(m.text, ctx));
    return node;
  }

  function renderSwitches(rows) {
    const box = $("switches");
    box.replaceChildren(
      ...rows.map((row) => {
        const card = el("section", "env");
        card.dataset.env = row.environment;
        card.append(el("h3", "", `${row.environment}`), el("p", "muted", row.label));
        if (row.problem) {
          card.append(el("p", "problem", row.problem));
          return card;
        }
        [["nightly", "Nightly merge"], ["realtime", "Real-time merge"]].forEach(([key, label]) => {
          const line = card.appendChild(el("p", "switch-line", `${label} `));
          const value = line.appendChild(el("span", `switch ${row[key] ? "on" : "off"}`, row[key] ? "on" : "off"));
          value.dataset.switch = key;
        });
        const facts = [`${row.writes} write${row.writes === 1 ? "" : "s"}`, `${row.comments} activity comment${row.comments === 1 ? "" : "s"}`];
        if (row.locked) facts.unshift("locked by Coursedog");
        card.append(el("p", "muted", facts.join(" · ")));
        return card;
      }),
    );
  }

  function renderModal(modal) {
    const backdrop = $("modal-backdrop");
    if (!modal) {
      backdrop.hidden = true;
      app.modalKey = "";
      return;
    }
    const key = `${modal.id}:${JSON.stringify(modal.view)}`;
    if (key !== app.modalKey) {
      app.modalKey = key;
      const view = modal.view;
      $("modal-title").textContent = window.BlockKit.plain(view.title) || "Form";
      $("modal-close").textContent = window.BlockKit.plain(view.close) || "Cancel";
      $("modal-submit").textContent = window.BlockKit.plain(view.submit) || "Submit";
      $("modal-submit").hidden = !view.submit;
      app.modalForm = window.SandboxModal.render(view, $("modal-body"), {
        ...context({}),
        onPress: null,
        onChoose(block_id, values) {
          send("choose", { view_id: modalId(), block_id, values }).catch((e) => {
            $("modal-error").textContent = `That choice did not reach the bot: ${e.message}`;
          });
        },
      });
      backdrop.hidden = false;
    }
    $("modal-submit").disabled = false;
    $("modal-error").textContent = modal.errors[""] || "";
    app.modalForm.showErrors(modal.errors);
  }

  function modalId() {
    return app.state && app.state.modal ? app.state.modal.id : "";
  }

  function onSubmit(event) {
    event.preventDefault();
    const view_id = modalId();
    if (!view_id) return;
    $("modal-submit").disabled = true;
    send("submit", { view_id, values: app.modalForm.read() }).catch((e) => {
      $("modal-submit").disabled = false;
      $("modal-error").textContent = `The form could not be sent: ${e.message}`;
    });
  }

  function onClose() {
    const view_id = modalId();
    if (view_id) send("close", { view_id }).catch((e) => note(e.message));
  }

  function onCommand(event) {
    event.preventDefault();
    const input = $("command");
    const typed = input.value.trim();
    const rest = typed.slice(COMMAND.length);
    if (!typed.startsWith(COMMAND) || (rest && !rest.startsWith(" "))) {
      note(`Only the ${COMMAND} command can be typed here, e.g. ${COMMAND} help.`);
      return;
    }
    note("");
    input.value = `${COMMAND} `;
    send("command", { channel: app.view, text: rest.trim() }).catch((e) => note(e.message));
  }

  function start() {
    $("composer").addEventListener("submit", onCommand);
    $("modal").addEventListener("submit", onSubmit);
    $("modal-close").addEventListener("click", onClose);
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && modalId()) onClose();
    });
    $("home-tab").addEventListener("click", () => show("home"));
    $("who").addEventListener("change", (e) => {
      app.me = e.target.value;
      localStorage.setItem("sandbox.me", app.me);
      app.seen = null;
      app.lastJson = "";
      note("");
      poll();
    });
    poll();
  }

  start();
})();
