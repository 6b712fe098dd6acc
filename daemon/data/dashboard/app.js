// promptd dashboard: one page, five sections, fed by the daemon's JSON API and its live
// stream (Server-Sent Events). No framework and no build step; every text from the log is
// put in the page with textContent, never as HTML.
//
// Loading: the page arrives with the Overview drawn in it by the daemon (its charts are
// SVG: see dashboard/page.py), so the first screen paints before this script runs, and
// with the other sections' first answers (a JSON data block), which this script draws at
// once, with no request. When a live event touches the overview, the daemon draws it
// again (/api/overview.html) and the page puts it in place: the only HTML this page takes
// from anywhere, made and escaped by the daemon.
(function () {
  "use strict";
  const csrf = document.querySelector('meta[name="promptd-csrf"]').content;
  const $ = (sel) => document.querySelector(sel);
  const state = { historyLimit: 50, history: null, audit: { next: 0, kind: "" }, openId: null, lastSeq: 0 };

  // --- helpers -----------------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("data-")) node.setAttribute(k, v);
      else node[k] = v;
    }
    for (const c of children) node.append(c instanceof Node ? c : String(c));
    return node;
  }

  // Formatters made once: toLocaleString with options builds a new one at every call, which
  // was the page's costliest function when it drew a hundred rows.
  // Each is made when first needed (the overview shows no dates unless an alert is on).
  const formats = {};
  const makers = {
    money: () => new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 }),
    count: () => new Intl.NumberFormat(),
    when: () => new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" }),
  };
  function fmt(name) {
    return formats[name] || (formats[name] = makers[name]());
  }
  const count = (n) => fmt("count").format(n);

  function usd(v) {
    if (v === null || v === undefined) return "–";
    if (v === 0) return "$0.00";
    if (Math.abs(v) < 0.01) return "$" + v.toFixed(4);
    return "$" + fmt("money").format(v);
  }

  function when(iso) {
    if (!iso) return "";
    return fmt("when").format(new Date(iso));
  }

  function size(n) {
    const units = ["B", "KB", "MB", "GB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : n) + " " + units[i];
  }

  async function answer(r) {
    if (!r.ok) throw new Error((await r.json().catch(() => ({}))).error || r.statusText);
    return r.json();
  }

  async function getJSON(url) {
    return answer(await fetch(url, { credentials: "same-origin", cache: "no-store" }));
  }

  // The sections' first answers came inside the page (by URL); each is used once, then the
  // section asks the daemon.
  const firstAnswers = (() => {
    const node = document.getElementById("first-answers");
    if (!node) return {};
    node.remove();
    return JSON.parse(node.textContent);
  })();
  function first(url) {
    const given = firstAnswers[url];
    delete firstAnswers[url];
    return given ? Promise.resolve(given) : getJSON(url);
  }

  async function post(url) {
    const r = await fetch(url, {
      method: "POST", credentials: "same-origin", headers: { "X-Promptd-CSRF": csrf },
    });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(body.error || r.statusText);
    return body;
  }

  // --- history -----------------------------------------------------------------------------

  function historyQuery() {
    const form = new FormData($("#history-filters"));
    const q = new URLSearchParams();
    for (const [k, v] of form.entries()) if (v) q.set(k, v);
    if (state.historyLimit > 50) q.set("limit", String(state.historyLimit));
    if (q.has("since") || q.has("until")) q.set("tz", String(-new Date().getTimezoneOffset()));
    return q.toString();
  }

  async function loadHistory() {
    const query = historyQuery();
    const h = await first("/api/history?" + query);
    const body = $("#history-table tbody");
    body.replaceChildren(...h.items.map((r) => {
      const score = r.score_before >= 0 ? `${r.score_before} → ${r.score_after}` : r.status;
      const tr = el("tr", { "data-id": r.id, class: r.id === state.openId ? "open" : "" },
        el("td", { text: when(r.at) }),
        el("td", { class: "preview", text: r.preview, title: r.preview }),
        el("td", { text: r.prompt_type }), el("td", { text: r.engine + (r.degraded ? " (degraded)" : "") }),
        el("td", { text: r.source }), el("td", { class: "num", text: score }),
        el("td", { class: "num", text: r.cached ? "cached" : usd(r.cost_usd) }),
        el("td", { class: "verdict " + r.verdict, text: r.verdict }));
      tr.addEventListener("click", () => openDetail(r.id));
      return tr;
    }));
    if (!h.items.length) body.replaceChildren(el("tr", {}, el("td", { colSpan: 8, class: "empty", text: "No optimizations match." })));
    $("#history-more").hidden = !h.more;
  }

  async function openDetail(id) {
    state.openId = id;
    for (const tr of document.querySelectorAll("#history-table tbody tr")) tr.classList.toggle("open", tr.dataset.id === id);
    const d = await getJSON("/api/optimizations/" + encodeURIComponent(id));
    const box = $("#detail");
    box.dataset.id = id;
    const parts = [el("h3", { text: `Optimization ${id}` }),
      el("p", { class: "muted", text: `${when(d.row.at)} · ${d.row.prompt_type} · ${d.row.engine}${d.row.model ? " · " + d.row.model : ""} · from ${d.row.source}` })];
    if (d.verdict) {
      const v = d.verdict;
      parts.push(el("p", { class: "verdict " + v.verdict, id: "detail-verdict" },
        `${v.verdict === "kept" ? "Kept" : "Rejected"} by you ${when(v.at)}${v.source ? " (" + v.source + ")" : ""}`,
        v.why ? `: ${v.why}` : ""));
    }
    if (d.error) {
      parts.push(el("p", { class: "bad", text: "Failed: " + d.error }), el("pre", { text: d.original }));
    } else {
      parts.push(el("h4", { text: `Before → after (score ${d.row.score_before} → ${d.row.score_after})` }),
        el("div", { class: "diff", id: "diff" }, ...d.diff.map((l) => el("div", { class: l.op, text: l.text || " " }))));
      if (d.unchanged_reason) parts.push(el("p", { class: "muted", text: d.unchanged_reason }));
      if (d.degraded_reason) parts.push(el("p", { class: "bad", text: "Degraded: " + d.degraded_reason }));
      parts.push(el("h4", { text: "Changes and their reasons" }),
        d.changes.length ? el("ul", { class: "changes" }, ...d.changes.map((c) => el("li", {}, c.description,
          ...c.reasons.map((r) => el("span", {}, " ", el("span", { class: "code", text: r.code }), el("span", { class: "reason", text: r.message ? " " + r.message : "" })))))) :
          el("p", { class: "empty", text: "No changes." }));
      if (d.findings.length) parts.push(el("h4", { text: "Findings" }), el("ul", {}, ...d.findings.map((f) =>
        el("li", {}, el("span", { class: "code", text: f.code }), ` ${f.severity}: ${f.message}${f.needs_input ? " (needs your input)" : ""}`))));
      parts.push(el("h4", { text: "Agent steps" }), d.steps.length ? table(["Agent", "Attempt", "Model", "ms", "Summary"],
        d.steps.map((s) => [s.agent, s.attempt, s.model || "offline", s.duration_ms.toFixed(1), s.summary])) :
        el("p", { class: "empty", text: d.row.cached ? "None: answered from the cache." : "No agent steps recorded." }));
      parts.push(el("h4", { text: "Provider calls" }), d.calls.length ? table(["Agent", "Model", "Prompt tok", "Cached", "Output", "Reasoning", "ms", "Cost", "OK"],
        d.calls.map((c) => [c.agent, c.model, c.prompt_tokens, c.cached_tokens, c.completion_tokens, c.reasoning_tokens, c.latency_ms, usd(c.cost_usd), c.ok ? "yes" : "no"])) :
        el("p", { class: "empty", text: "No provider calls (offline engine or cache)." }));
      if (d.evaluations && d.evaluations.length) parts.push(el("h4", { text: "Evaluations (promptd eval)" }),
        table(["Eval", "When", "Win/tie/loss", "Win rate (95%)", "Target", "Judge", "Cost", "Status"],
          d.evaluations.map((e) => [e.eval_id, when(e.at), `${e.wins}/${e.ties}/${e.losses}${e.drafted ? " (drafted)" : ""}`,
            `${Math.round(e.score * 100)}% (${Math.round(e.low * 100)}-${Math.round(e.high * 100)}%)`, e.target_model, e.judge_model,
            usd(e.cost_usd), e.status + (e.stopped_reason ? ": " + e.stopped_reason : "")])),
        el("ul", { class: "eval-reasons" }, ...d.evaluations.flatMap((e) => e.reasons.map((r) => el("li", { text: `${e.eval_id} sample ${r}` })))));
    }
    parts.push(el("p", {}, el("button", { type: "button", text: "Close", onclick: () => { box.hidden = true; state.openId = null; } })));
    box.replaceChildren(...parts);
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
  }

  function table(headers, rows) {
    return el("table", {}, el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", { text: h })))),
      el("tbody", {}, ...rows.map((r) => el("tr", {}, ...r.map((v) => el("td", { text: String(v) }))))));
  }

  // --- batches -----------------------------------------------------------------------------

  async function loadBatches() {
    const b = await first("/api/batches");
    $("#batches-running").replaceChildren(...(b.running.length ? b.running.map((r) =>
      el("div", { class: "batch", "data-batch": r.id, "data-done": r.done, "data-total": r.total },
        el("strong", { text: r.file_name || r.id }), " ",
        el("progress", { max: Math.max(r.total, 1), value: r.done }),
        ` ${r.done} / ${r.total} · ${usd(r.cost_usd)} · started ${when(r.started_at)}`)) :
      [el("p", { class: "empty", text: "No batch is running." })]));
    $("#batches-finished tbody").replaceChildren(...(b.finished.length ? b.finished.map((r) => el("tr", { "data-batch": r.id },
      el("td", { text: r.file_name || r.id }), el("td", { class: r.status === "completed" ? "ok" : "bad", text: r.status + (r.reason ? `: ${r.reason}` : "") }),
      el("td", { class: "num", text: r.total }), el("td", { class: "num", text: r.ok }), el("td", { class: "num", text: r.failed }),
      el("td", { class: "num", text: usd(r.cost_usd) }), el("td", { text: when(r.finished_at) }),
      el("td", { class: "muted", text: r.report_path || r.output_path || "" }))) :
      [el("tr", {}, el("td", { colSpan: 8, class: "empty", text: "No finished batches." }))]));
    $("#batches-failed").replaceChildren(...(b.failed_files.length ? b.failed_files.map((f) =>
      el("div", { class: "batch" }, el("strong", { class: "bad", text: f.name }), el("pre", { text: f.error || "(no error file)" }))) :
      [el("p", { class: "empty", text: "No failed inbox files." })]));
  }

  // --- audit -------------------------------------------------------------------------------

  function auditRow(e) {
    const summary = Object.entries(e.fields).filter(([, v]) => typeof v !== "object").slice(0, 4)
      .map(([k, v]) => `${k}=${String(v).slice(0, 40)}`).join("  ");
    return el("tr", { "data-seq": e.seq },
      el("td", { class: "num", text: e.seq }), el("td", { text: when(e.at) }), el("td", { class: "code", text: e.kind }),
      el("td", {}, details(summary || "(no fields)", () => JSON.stringify(e.fields, null, 2))));
  }

  // A <details> whose body is made when it is first opened (the audit shows many).
  function details(summary, body) {
    const d = el("details", {}, el("summary", { text: summary }));
    d.addEventListener("toggle", () => {
      if (d.open && d.children.length === 1) d.append(el("pre", { text: body() }));
    });
    return d;
  }

  async function loadAudit(more) {
    const kind = $("#audit-filters select").value;
    const q = new URLSearchParams({ limit: "50" });
    if (kind) q.set("kind", kind);
    if (more && state.audit.next) q.set("before", state.audit.next);
    const a = await first("/api/audit?" + q);
    const body = $("#audit-table tbody");
    const rows = a.items.map(auditRow);
    if (more) body.append(...rows); else body.replaceChildren(...rows);
    state.audit.next = a.next;
    $("#audit-more").hidden = !a.next;
    const select = $("#audit-filters select");
    if (a.kinds && select.options.length === 1) select.append(...a.kinds.map((k) => el("option", { text: k, value: k })));
  }

  // --- backups -----------------------------------------------------------------------------

  async function loadBackups() {
    const b = await first("/api/backups");
    $("#backups-table tbody").replaceChildren(...(b.items.length ? b.items.map((r) => {
      const verify = el("button", { type: "button", text: "Verify" });
      verify.addEventListener("click", () => act(verify, "/api/backups/" + encodeURIComponent(r.id) + "/verify",
        (res) => (res.ok ? `Backup ${r.id} verified: ${count(res.events)} events.` : `Backup ${r.id} failed verification: ${res.reason}`)));
      return el("tr", { "data-backup": r.id },
        el("td", { class: "code", text: r.id }), el("td", { text: when(r.at) }), el("td", { class: "num", text: size(r.size_bytes) }),
        el("td", { class: "num", text: count(r.events) }),
        el("td", { class: r.verified ? "ok" : r.verify_error ? "bad" : "muted", text: r.verified ? "yes" + (r.verified_at ? ", " + when(r.verified_at) : "") : r.verify_error || "not yet" }),
        el("td", {}, verify));
    }) : [el("tr", {}, el("td", { colSpan: 6, class: "empty", text: "No backups yet." }))]));
  }

  async function act(button, url, say) {
    const msg = $("#backup-message");
    button.disabled = true;
    msg.textContent = "Working…";
    try {
      msg.textContent = say(await post(url));
      msg.className = "ok";
    } catch (err) {
      msg.textContent = String(err.message || err);
      msg.className = "bad";
    } finally {
      button.disabled = false;
      loadBackups().catch(showError);
    }
  }

  // --- live updates ------------------------------------------------------------------------

  async function loadOverview() {
    const r = await fetch("/api/overview.html", { credentials: "same-origin", cache: "no-store" });
    if (!r.ok) await answer(r);  // throws what the daemon said
    $("#overview-body").innerHTML = await r.text();
    drawnSeq();
  }

  // The log's sequence the overview was drawn at (events after it are news).
  function drawnSeq() {
    const cards = $("#cards");
    if (cards) state.lastSeq = Math.max(state.lastSeq, Number(cards.dataset.seq) || 0);
  }

  const loaders = {
    overview: loadOverview,
    history: loadHistory,
    batches: loadBatches,
    audit: () => ($("#audit-table tbody").children.length > 50 ? Promise.resolve() : loadAudit(false)),
    backups: loadBackups,
  };
  const dirty = new Set();
  let timer = null;

  function touched(kind) {
    const out = ["audit"];
    if (/^(optimization|provider|cache|budget|circuit|agent)\./.test(kind)) out.push("overview");
    if (/^optimization\./.test(kind)) out.push("history");
    if (/^batch\./.test(kind)) out.push("batches", "overview");
    if (/^backup\./.test(kind)) out.push("backups");
    return out;
  }

  // Sections are read again 80 ms after an event touched them (events come in bursts); the
  // overview at most every half second, as the daemon draws its charts again each time.
  const OVERVIEW_EVERY_MS = 500;
  let overviewAt = 0;

  function refresh(names) {
    for (const n of names) dirty.add(n);
    if (timer) return;
    const wait = dirty.has("overview") ? Math.max(80, overviewAt + OVERVIEW_EVERY_MS - Date.now()) : 80;
    timer = setTimeout(async () => {
      timer = null;
      const now = [...dirty];
      dirty.clear();
      if (now.includes("overview")) overviewAt = Date.now();
      await Promise.all(now.map((n) => loaders[n]().catch(showError)));
      document.body.dataset.seq = String(state.lastSeq);
    }, wait);
  }

  function connect() {
    const live = $("#live");
    const source = new EventSource("/api/live");
    let connected = false;
    source.addEventListener("hello", (m) => {
      live.textContent = "live";
      live.className = "live on";
      // Back after a gap, or events came between the page's numbers and this stream (the
      // hello carries the log's last sequence): read everything again.
      if (connected || Number(m.data) > state.lastSeq) refresh(Object.keys(loaders));
      connected = true;
    });
    source.addEventListener("record", (m) => {
      const note = JSON.parse(m.data);
      state.lastSeq = Math.max(state.lastSeq, note.seq);
      refresh(touched(note.kind));
    });
    source.onerror = () => { live.textContent = "reconnecting…"; live.className = "live off"; };
  }

  function showError(err) {
    console.error(err);
    const live = $("#live");
    live.textContent = "error: " + (err.message || err);
    live.className = "live off";
  }

  // --- start -------------------------------------------------------------------------------

  let debounce = null;
  $("#history-filters").addEventListener("input", () => { state.historyLimit = 50; clearTimeout(debounce); debounce = setTimeout(() => loadHistory().catch(showError), 200); });
  $("#history-filters").addEventListener("submit", (e) => e.preventDefault());
  $("#audit-filters select").addEventListener("change", () => { state.audit.next = 0; loadAudit(false).catch(showError); });
  $("#audit-more").addEventListener("click", () => loadAudit(true).catch(showError));
  $("#history-more button").addEventListener("click", () => {
    state.historyLimit = Math.min(state.historyLimit + 200, 1000);
    loadHistory().catch(showError);
  });
  $("#backup-now").addEventListener("click", (e) => act(e.target, "/api/backups", (r) => `Backup ${r.id} made and verified: ${count(r.events)} events.`));

  // The overview came drawn with the page, the other sections' first answers with it: they
  // are drawn once the overview is on screen (the frame after this script, which runs when
  // the whole page is parsed; data-painted-ms says when, for bench/dashboard.py).
  async function start() {
    drawnSeq();
    await new Promise((painted) => requestAnimationFrame(() => setTimeout(painted, 0)));
    document.body.dataset.paintedMs = performance.now().toFixed(1);
    await Promise.all(["history", "batches", "audit", "backups"].map((name) => loaders[name]()));
  }

  start().then(() => {
    document.body.dataset.readyMs = performance.now().toFixed(1);
    document.body.dataset.state = "ready";
    document.body.dataset.seq = String(state.lastSeq);
  }).catch(showError);
  connect();
})();
