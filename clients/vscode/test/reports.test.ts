import assert from "node:assert/strict";
import { test } from "node:test";

import { historyReport, statusReport } from "../src/reports";

const STATUS = {
  running: true,
  pid: 4242,
  version: "0.1.0",
  home: "/home/ada/.promptd",
  engine: "llm",
  provider: { name: "xai", model: "grok-4.3", circuit: "closed" },
  events: { count: 120, last_seq: 120, bytes: 65536 },
  cache: { entries: 12, hit_rate: 0.25 },
  spend: {
    today_usd: 0.42,
    month_usd: 3.1,
    daily_budget_usd: 5,
    monthly_budget_usd: null,
    forecast_30d_usd: 9.3,
  },
  backups: { count: 2, last_at: "2026-11-27T03:00:00Z", next_at: "2026-11-28T03:00:00Z" },
  inbox: { path: "/home/ada/.promptd/inbox", pending: 1, batches: [] },
};

test("the status document reads as a short report", () => {
  assert.deepEqual(statusReport(STATUS), [
    "promptd 0.1.0: running (pid 4242)",
    "Engine: llm, provider xai (grok-4.3), breaker closed",
    "Spend: today $0.42 of $5.00, this month $3.10, 30-day forecast $9.30",
    "Cache: 12 entries, hit rate 25%",
    "Events: 120",
    "Backups: 2, last 2026-11-27T03:00:00Z, next 2026-11-28T03:00:00Z",
    "Inbox: /home/ada/.promptd/inbox (1 pending)",
    "Home: /home/ada/.promptd",
  ]);
});

test("a daemon the server cannot reach says so", () => {
  assert.deepEqual(statusReport({ connected: false, message: "connection refused" }), [
    "promptd: daemon not connected: connection refused",
  ]);
});

test("history: one line per optimization", () => {
  const lines = historyReport([
    {
      id: "6b095a6a1234",
      at: "2026-11-27T10:24:42Z",
      score_before: 65,
      score_after: 78,
      cost_usd: 0,
      cached: true,
      degraded: false,
      preview: "write something about dogs",
    },
  ]);
  assert.deepEqual(lines, [
    "6b095a6a  2026-11-27T10:24:42Z  65 → 78  $0.00  cached  write something about dogs",
  ]);
});

test("no history yet", () => {
  assert.deepEqual(historyReport([]), ["promptd: no optimizations yet"]);
});
