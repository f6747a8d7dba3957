// modup's page: it talks to the daemon's API with the token kept in this
// tab's sessionStorage (it arrives in the URL's fragment, which never
// reaches a server or a log, and is removed from the address bar at once).
// Every text from the daemon is set as text, never as HTML.
"use strict";

const TOKEN_KEY = "modup-token";
const $ = (sel) => document.querySelector(sel);

let token = "";
let packages = [];
const busy = new Set(); // "action:name" of requests in flight
const progress = new Map(); // package -> {done, total}
let refreshTimer = null;

// takeToken takes what the URL's fragment carries: a one-use login code
// from `modup ui` (traded for the token at once), or the token itself.
async function takeToken() {
  const code = /(?:^#|&)code=([^&]+)/.exec(location.hash);
  const given = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (code || given) {
    history.replaceState(null, "", location.pathname + location.search);
  }
  if (given) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(given[1]));
  }
  if (code) {
    try {
      const resp = await fetch("/v1/login", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ code: decodeURIComponent(code[1]) }),
      });
      const body = await resp.json().catch(() => null);
      if (resp.ok && body && body.token) {
        sessionStorage.setItem(TOKEN_KEY, body.token);
      } else {
        say((body && body.error) || "The login link was refused: run `modup ui` again.", true);
      }
    } catch (err) {
      say("The daemon did not answer: " + err.message, true);
    }
  }
  token = sessionStorage.getItem(TOKEN_KEY) || "";
}

function say(text, isError) {
  const el = $("#message");
  el.textContent = text;
  el.classList.toggle("error", Boolean(isError));
}

function showLogin(text) {
  token = "";
  sessionStorage.removeItem(TOKEN_KEY);
  $("#login").hidden = false;
  $("#check-all").disabled = true;
  $("#update-all").disabled = true;
  if (text) say(text, true);
  $("#token").focus();
}

class APIError extends Error {
  constructor(status, body) {
    super((body && body.error) || "HTTP " + status);
    this.status = status;
    this.body = body;
  }
}

async function api(method, path, body) {
  const opts = { method, headers: { Authorization: "Bearer " + token } };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const resp = await fetch(path, opts);
  let data = null;
  try {
    data = await resp.json();
  } catch (e) {
    data = null;
  }
  if (resp.status === 401) {
    showLogin("The token was refused: paste the one `modup api-token` prints.");
  }
  if (!resp.ok) throw new APIError(resp.status, data);
  return data;
}

function when(s) {
  if (!s) return "–";
  const d = new Date(s);
  if (isNaN(d) || d.getFullYear() < 2000) return "–";
  const two = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text || "–";
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

function button(label, action, name, disabled, title) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.dataset.action = action;
  b.dataset.name = name;
  b.setAttribute("aria-label", label + " " + name);
  b.disabled = disabled || busy.has(action + ":" + name);
  if (title) b.title = title;
  return b;
}

function renderPackages() {
  const focused = document.activeElement;
  const keep = focused && focused.dataset && focused.dataset.action
    ? { action: focused.dataset.action, name: focused.dataset.name } : null;
  const tbody = $("#packages tbody");
  const rows = [];
  for (const p of packages) {
    const tr = document.createElement("tr");
    tr.dataset.name = p.name;
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = p.name;
    tr.appendChild(th);
    cell(tr, p.installed, "version installed");
    cell(tr, p.available, "version available");
    const checking = busy.has("check:" + p.name);
    const status = checking ? "checking…" : (p.status || "not checked") + (p.held ? " · held" : "");
    const st = cell(tr, status, "status status-" + (checking ? "checking" : (p.status || "none")));
    const prog = progress.get(p.name);
    if (prog) {
      const bar = document.createElement("progress");
      bar.setAttribute("aria-label", "Downloading " + p.name);
      if (prog.total > 0) {
        bar.max = prog.total;
        bar.value = prog.done;
      }
      st.appendChild(bar);
    }
    const err = p.error || (p.last_update && p.last_update.error
      ? "Last change failed (" + when(p.last_update.at) + "): " + p.last_update.error : "");
    if (err) {
      const e = document.createElement("div");
      e.className = "error-text";
      e.textContent = err;
      st.appendChild(e);
    }
    cell(tr, when(p.last_check), "when");
    cell(tr, p.source, "source");
    const news = cell(tr, "", "news");
    if (p.news) {
      news.textContent = "";
      const first = p.news.split("\n")[0];
      if (p.news.length > 80 || p.news.includes("\n")) {
        const det = document.createElement("details");
        const sum = document.createElement("summary");
        sum.textContent = first.length > 60 ? first.slice(0, 60) + "…" : first;
        const pre = document.createElement("pre");
        pre.textContent = p.news;
        det.append(sum, pre);
        news.appendChild(det);
      } else {
        news.textContent = p.news;
      }
    }
    const acts = document.createElement("td");
    acts.className = "actions";
    acts.append(
      button("Check", "check", p.name),
      button("Update", "update", p.name, p.status !== "update-available", p.status === "update-available" ? "Install " + p.available : "No update available"),
      button("Roll back", "rollback", p.name, !(p.backups && p.backups.length), p.backups && p.backups.length ? "Restore " + p.backups[0] : "No backup kept"),
      p.held
        ? button("Unhold", "unhold", p.name, false, "Held" + (p.held.reason ? ": " + p.held.reason : "") + "; let updates change it again")
        : button("Hold", "hold", p.name, false, "Keep " + (p.installed || "it") + ": updates pass it by"),
    );
    tr.appendChild(acts);
    rows.push(tr);
  }
  keepUnchanged(tbody, rows);
  $("#no-packages").hidden = packages.length > 0;
  if (keep) {
    const again = document.querySelector(`button[data-action="${CSS.escape(keep.action)}"][data-name="${CSS.escape(keep.name)}"]`);
    if (again && !again.disabled) again.focus();
  }
}

// keepUnchanged makes tbody's rows the rows given, keeping each row that
// shows the same as its new one: a refresh that changes one package leaves
// the others' buttons where they are, so a click or the focus on one of
// them is not lost to a rebuild.
function keepUnchanged(tbody, rows) {
  let cur = tbody.firstElementChild;
  for (const tr of rows) {
    if (cur && cur.dataset.name === tr.dataset.name) {
      const next = cur.nextElementSibling;
      if (cur.innerHTML !== tr.innerHTML) tbody.replaceChild(tr, cur);
      cur = next;
    } else {
      tbody.insertBefore(tr, cur);
    }
  }
  while (cur) {
    const next = cur.nextElementSibling;
    cur.remove();
    cur = next;
  }
}

function renderHistory(entries) {
  const tbody = $("#history tbody");
  tbody.replaceChildren();
  for (const e of entries.slice().reverse()) {
    const tr = document.createElement("tr");
    cell(tr, when(e.time), "when");
    cell(tr, e.package);
    cell(tr, e.action);
    cell(tr, e.from, "version");
    cell(tr, e.to, "version");
    const r = cell(tr, e.result, "result-" + e.result);
    if (e.error) r.title = e.error;
    cell(tr, e.by);
    tbody.appendChild(tr);
  }
  $("#no-history").hidden = entries.length > 0;
}

async function refresh() {
  if (!token) return;
  try {
    const [st, pk, hi] = await Promise.all([
      api("GET", "/v1/status"),
      api("GET", "/v1/packages"),
      api("GET", "/v1/history?limit=50"),
    ]);
    const next = st.next_check ? ", next check " + when(st.next_check) : "";
    $("#daemon").textContent = `modup ${st.version} · ${st.packages} packages · policy ${st.policy} · every ${st.interval}${next}`;
    packages = pk.packages || [];
    renderPackages();
    renderHistory(hi.history || []);
    $("#login").hidden = true;
    $("#check-all").disabled = false;
    $("#update-all").disabled = !packages.some((p) => p.status === "update-available");
  } catch (e) {
    if (!(e instanceof APIError && e.status === 401)) say("Could not reach the daemon: " + e.message, true);
  }
}

function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 150);
}

function outcome(changes) {
  return (changes || []).map((c) => {
    const to = c.to ? " " + c.to : "";
    return `${c.name}: ${c.status}${to}${c.error ? " (" + c.error + ")" : ""}${c.reason ? " (" + c.reason + ")" : ""}`;
  }).join("; ");
}

async function act(action, name) {
  const key = action + ":" + name;
  busy.add(key);
  renderPackages();
  try {
    let data;
    switch (action) {
      case "check":
        say("Checking " + (name || "every package") + "…");
        data = await api("POST", "/v1/check", name ? { names: [name] } : {});
        say("Checked: " + data.packages.map((r) => `${r.name} ${r.status}${r.available ? " " + r.available : ""}`).join("; "));
        break;
      case "update":
        say("Updating " + (name || "every package") + "…");
        data = await api("POST", name ? "/v1/update/" + encodeURIComponent(name) : "/v1/update");
        say("Update: " + outcome(data.packages));
        break;
      case "rollback":
        say("Rolling back " + name + "…");
        data = await api("POST", "/v1/rollback/" + encodeURIComponent(name));
        say("Rollback: " + outcome(data.packages));
        break;
      case "hold":
        data = await api("POST", "/v1/hold/" + encodeURIComponent(name));
        say("Hold: " + outcome(data.packages));
        break;
      case "unhold":
        data = await api("POST", "/v1/unhold/" + encodeURIComponent(name));
        say("Unhold: " + outcome(data.packages));
        break;
    }
  } catch (e) {
    let text = e.message;
    if (e.body && e.body.holder && e.body.holder.pid) {
      text += ` (pid ${e.body.holder.pid})`;
    }
    if (!(e instanceof APIError && e.status === 401)) say(text, true);
  } finally {
    busy.delete(key);
    progress.delete(name);
    await refresh();
  }
}

// The event stream is read with fetch, which can send the token in a
// header (EventSource cannot).
async function listen() {
  for (;;) {
    if (token) {
      try {
        const resp = await fetch("/v1/events", { headers: { Authorization: "Bearer " + token } });
        if (resp.status === 401) {
          showLogin("The token was refused: paste the one `modup api-token` prints.");
        } else if (resp.ok && resp.body) {
          await readEvents(resp.body.getReader());
        }
      } catch (e) {
        // the daemon restarted or the network dropped: try again below
      }
    }
    await new Promise((r) => setTimeout(r, 3000));
  }
}

async function readEvents(reader) {
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += decoder.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      let type = "", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) type = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      if (type && data) onEvent(type, JSON.parse(data));
    }
  }
}

function onEvent(type, e) {
  switch (type) {
    case "download-progress":
      progress.set(e.package, { done: e.done || 0, total: e.total || 0 });
      renderPackages();
      break;
    case "check-started":
      break;
    case "failed":
      progress.delete(e.package);
      say(`${e.package}: ${e.action || "change"} failed: ${e.error}`, true);
      refreshSoon();
      break;
    case "installed":
    case "rolled-back":
      progress.delete(e.package);
      refreshSoon();
      break;
    default:
      refreshSoon();
  }
}

async function start() {
  await takeToken();
  $("#login-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    token = $("#token").value.trim();
    sessionStorage.setItem(TOKEN_KEY, token);
    $("#token").value = "";
    say("");
    refresh();
  });
  $("#check-all").addEventListener("click", () => act("check", ""));
  $("#update-all").addEventListener("click", () => act("update", ""));
  $("#packages").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-action]");
    if (b && !b.disabled) act(b.dataset.action, b.dataset.name);
  });
  if (!token) {
    showLogin($("#message").textContent);
  } else {
    refresh();
  }
  listen();
}

document.addEventListener("DOMContentLoaded", start);
