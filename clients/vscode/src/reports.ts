// The text "Show Status" and "Show History" write to the promptd output: the daemon's status
// (`promptd status --json`, what the server's promptd.showStatus answers) and its recent
// optimizations (promptd.showHistory). No `vscode` import: unit-tested.

import { formatUsd } from "./statusText";

type Json = Record<string, unknown>;

function obj(value: unknown): Json {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function str(value: unknown, fallback = "?"): string {
  return typeof value === "string" && value !== "" ? value : fallback;
}

function money(spent: unknown, budget: unknown): string {
  const s = num(spent);
  const b = num(budget);
  const text = s === undefined ? "?" : formatUsd(s);
  return b === undefined ? text : `${text} of ${formatUsd(b)}`;
}

/** Lines for the daemon's status document; the server's own answer when it is unreachable. */
export function statusReport(result: unknown): string[] {
  const r = obj(result);
  if (r.connected === false) {
    return [`promptd: daemon not connected: ${str(r.message)}`];
  }
  if (typeof r.running !== "boolean") {
    return ["promptd: the server sent no status"];
  }
  const provider = obj(r.provider);
  const spend = obj(r.spend);
  const cache = obj(r.cache);
  const events = obj(r.events);
  const backups = obj(r.backups);
  const inbox = obj(r.inbox);
  const model = str(provider.model, "");
  const lines = [
    `promptd ${str(r.version)}: ${r.running ? "running" : "not running"}` +
      (num(r.pid) !== undefined ? ` (pid ${r.pid})` : ""),
    `Engine: ${str(r.engine)}, provider ${str(provider.name)}${model ? ` (${model})` : ""}, ` +
      `breaker ${str(provider.circuit)}`,
    `Spend: today ${money(spend.today_usd, spend.daily_budget_usd)}, ` +
      `this month ${money(spend.month_usd, spend.monthly_budget_usd)}, ` +
      `30-day forecast ${money(spend.forecast_30d_usd, undefined)}`,
    `Cache: ${num(cache.entries) ?? 0} entries, hit rate ${Math.round((num(cache.hit_rate) ?? 0) * 100)}%`,
    `Events: ${num(events.count) ?? 0}`,
    `Backups: ${num(backups.count) ?? 0}, last ${str(backups.last_at, "never")}, ` +
      `next ${str(backups.next_at, "-")}`,
    `Inbox: ${str(inbox.path)} (${num(inbox.pending) ?? 0} pending)`,
    `Home: ${str(r.home)}`,
  ];
  return lines;
}

/** One line per optimization, newest first, as the server answers them. */
export function historyReport(result: unknown): string[] {
  if (!Array.isArray(result) || result.length === 0) {
    return ["promptd: no optimizations yet"];
  }
  return result.map((entry) => {
    const item = obj(entry);
    const cost = num(item.cost_usd);
    const flags = [item.cached === true ? "cached" : "", item.degraded === true ? "degraded" : ""]
      .filter((f) => f !== "")
      .join(", ");
    return [
      str(item.id).slice(0, 8),
      str(item.at),
      `${num(item.score_before) ?? "?"} → ${num(item.score_after) ?? "?"}`,
      cost === undefined ? "" : formatUsd(cost),
      flags,
      str(item.preview, ""),
    ]
      .filter((part) => part !== "")
      .join("  ");
  });
}
