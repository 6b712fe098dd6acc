// What the status bar item shows for a `promptd/status` notification: the engine, today's
// spend against the daily budget, and a warning when the provider's breaker is open or the
// budget passes its alert level. No `vscode` import: unit-tested.

/** `promptd/status` params (lsp/protocol.py NOTIFY_STATUS); every field may be missing. */
export interface StatusParams {
  connected?: boolean;
  engine?: string;
  model?: string;
  circuit?: string;
  spend_today_usd?: number;
  daily_budget_usd?: number | null;
  message?: string;
  /** The server's own alert flag, when it sends one. */
  alert?: boolean;
  /** Percent of the budget at which the alert fires (config [budget] alert_pct). */
  alert_pct?: number;
}

export interface StatusView {
  text: string;
  tooltip: string;
  /** Show in the warning colour. */
  warning: boolean;
}

/** The budget alert level when the server does not send one (config.py BudgetConfig). */
export const DEFAULT_ALERT_PCT = 80;

/** "$0.12"; amounts under a cent keep four decimals so small spend is not shown as zero. */
export function formatUsd(value: number): string {
  if (value !== 0 && Math.abs(value) < 0.01) {
    return `$${value.toFixed(4)}`;
  }
  return `$${value.toFixed(2)}`;
}

function isNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

/** Why the item is in the warning colour, or undefined when all is well. */
export function alertReason(status: StatusParams): string | undefined {
  if (status.circuit === "open") {
    return "the provider's circuit breaker is open: answers come from the cache or the offline engine";
  }
  const spent = status.spend_today_usd;
  const budget = status.daily_budget_usd;
  if (isNumber(spent) && isNumber(budget) && budget > 0) {
    const pct = isNumber(status.alert_pct) ? status.alert_pct : DEFAULT_ALERT_PCT;
    if (spent >= budget) {
      return `today's spend ${formatUsd(spent)} has reached the daily budget ${formatUsd(budget)}`;
    }
    if (spent >= (budget * pct) / 100) {
      return `today's spend ${formatUsd(spent)} is past ${pct}% of the daily budget ${formatUsd(budget)}`;
    }
  }
  if (status.alert === true) {
    return status.message || "the daemon raised an alert";
  }
  return undefined;
}

/** The status bar item for `status`; undefined status = the server has not reported yet. */
export function statusView(status: StatusParams | undefined): StatusView {
  if (status === undefined) {
    return { text: "$(sync~spin) promptd", tooltip: "promptd: starting…", warning: false };
  }
  if (status.connected === false) {
    // The server reaches the daemon lazily (on the first optimization or status): not yet
    // connected with no message is the normal start, not a problem. Only a failure warns.
    if (!status.message) {
      return {
        text: "promptd",
        tooltip:
          "promptd: the daemon is reached (and started) on the first optimization. " +
          "Click for status.",
        warning: false,
      };
    }
    return {
      text: "$(debug-disconnect) promptd",
      tooltip: `promptd: daemon not connected: ${status.message}. Click for status.`,
      warning: true,
    };
  }
  const engine = status.engine || "?";
  let text = `promptd: ${engine}`;
  const lines = [`Engine: ${engine}${status.model ? ` (${status.model})` : ""}`];
  if (isNumber(status.spend_today_usd)) {
    const spent = formatUsd(status.spend_today_usd);
    if (isNumber(status.daily_budget_usd) && status.daily_budget_usd > 0) {
      const budget = formatUsd(status.daily_budget_usd);
      text += ` · ${spent} / ${budget}`;
      lines.push(`Spend today: ${spent} of ${budget}`);
    } else {
      text += ` · ${spent}`;
      lines.push(`Spend today: ${spent} (no daily budget)`);
    }
  }
  if (status.circuit) {
    lines.push(`Provider breaker: ${status.circuit}`);
  }
  const reason = alertReason(status);
  if (reason) {
    text = `$(warning) ${text}`;
    lines.push(`Warning: ${reason}`);
  }
  if (status.message && !reason) {
    lines.push(status.message);
  }
  lines.push("Click for the full status.");
  return { text, tooltip: lines.join("\n"), warning: reason !== undefined };
}
