import assert from "node:assert/strict";
import { test } from "node:test";

import { dashboardUrl } from "../src/dashboard";

test("the URL promptd dashboard --json prints is opened as it is", () => {
  const url = "http://127.0.0.1:41234/?token=abc-DEF_123";
  assert.deepEqual(dashboardUrl(JSON.stringify({ url })), { ok: true, url });
});

test("a failure says what promptd said", () => {
  const answer = dashboardUrl("", "promptd: the dashboard is off ([dashboard] enabled = false)\n");
  assert.deepEqual(answer, { ok: false, message: "the dashboard is off ([dashboard] enabled = false)" });
});

test("anything but a loopback http URL is refused", () => {
  for (const out of ["not json", JSON.stringify({ url: "https://example.com/" }), "{}"]) {
    assert.equal(dashboardUrl(out).ok, false, out);
  }
});
