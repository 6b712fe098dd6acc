// The dashboard's URL from `promptd dashboard --json`. No `vscode` import: unit-tested.

export type DashboardAnswer = { ok: true; url: string } | { ok: false; message: string };

/** The URL `promptd dashboard --json` printed; only a loopback http URL is accepted. */
export function dashboardUrl(stdout: string, failure = ""): DashboardAnswer {
  if (failure) {
    return { ok: false, message: failure.trim().replace(/^promptd: /, "") };
  }
  let url: unknown;
  try {
    url = (JSON.parse(stdout) as { url?: unknown }).url;
  } catch {
    return { ok: false, message: "`promptd dashboard --json` did not print JSON; is promptd up to date?" };
  }
  if (typeof url !== "string" || !/^http:\/\/(127\.0\.0\.1|localhost):\d+\//.test(url)) {
    return { ok: false, message: `unexpected dashboard URL ${JSON.stringify(url)}` };
  }
  return { ok: true, url };
}
