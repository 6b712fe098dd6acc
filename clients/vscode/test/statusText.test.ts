import assert from "node:assert/strict";
import { test } from "node:test";

import { alertReason, formatUsd, statusView } from "../src/statusText";

test("engine and today's spend against the budget", () => {
  const view = statusView({
    connected: true,
    engine: "llm",
    model: "grok-4.3",
    circuit: "closed",
    spend_today_usd: 0.42,
    daily_budget_usd: 5,
  });
  assert.equal(view.text, "promptd: llm · $0.42 / $5.00");
  assert.equal(view.warning, false);
  assert.match(view.tooltip, /Engine: llm \(grok-4\.3\)/);
  assert.match(view.tooltip, /Spend today: \$0\.42 of \$5\.00/);
});

test("no budget: spend alone", () => {
  const view = statusView({ engine: "offline", spend_today_usd: 0, daily_budget_usd: null });
  assert.equal(view.text, "promptd: offline · $0.00");
  assert.match(view.tooltip, /no daily budget/);
});

test("an open breaker shows the warning colour", () => {
  const view = statusView({ engine: "llm", circuit: "open", spend_today_usd: 0.1 });
  assert.equal(view.warning, true);
  assert.ok(view.text.startsWith("$(warning) "));
  assert.match(view.tooltip, /circuit breaker is open/);
});

test("spend past the alert level warns; below it does not", () => {
  const base = { engine: "llm", circuit: "closed", daily_budget_usd: 1 };
  assert.equal(statusView({ ...base, spend_today_usd: 0.79 }).warning, false);
  assert.equal(statusView({ ...base, spend_today_usd: 0.8 }).warning, true);
  assert.equal(statusView({ ...base, spend_today_usd: 0.5, alert_pct: 50 }).warning, true);
  assert.match(alertReason({ ...base, spend_today_usd: 1.2 }) ?? "", /has reached the daily budget/);
});

test("the server's own alert flag warns", () => {
  assert.equal(statusView({ engine: "llm", alert: true, message: "budget alert" }).warning, true);
});

test("a daemon that is not connected says so", () => {
  const view = statusView({ connected: false, message: "socket refused" });
  assert.equal(view.text, "$(debug-disconnect) promptd");
  assert.equal(view.warning, true);
  assert.match(view.tooltip, /daemon not connected: socket refused/);
});

test("a fresh start (not connected yet, nothing wrong) is neutral, not a warning", () => {
  // The server's first promptd/status, before anything asked the daemon (lsp/session.py).
  const view = statusView({ connected: false, engine: "", message: "", spend_today_usd: 0 });
  assert.equal(view.text, "promptd");
  assert.equal(view.warning, false);
  assert.match(view.tooltip, /first optimization/);
});

test("before the first notification the item says it is starting", () => {
  assert.equal(statusView(undefined).text, "$(sync~spin) promptd");
});

test("small amounts are not rounded to zero", () => {
  assert.equal(formatUsd(0.0012), "$0.0012");
  assert.equal(formatUsd(0), "$0.00");
  assert.equal(formatUsd(12.345), "$12.35");
});
