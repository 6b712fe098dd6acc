import assert from "node:assert/strict";
import { test } from "node:test";

import { preferredFirst } from "../src/actionOrder";

type Action = { title: string; kind?: string; isPreferred?: boolean; command?: unknown };

function served(): Action[] {
  // The server's list for a cursor in a prompt with filler (lsp/features/actions.py).
  return [
    { title: "Optimize prompt", kind: "refactor.rewrite", isPreferred: true },
    { title: "Optimize prompt as chat", kind: "refactor.rewrite" },
    { title: "Remove the filler (PD013)", kind: "quickfix" },
  ];
}

test("Ctrl+.: Optimize prompt is the first quick fix, ahead of Remove the filler", () => {
  const shown = preferredFirst(served(), false, "quickfix");
  const quickFixes = shown.filter((a) => a.kind === "quickfix").map((a) => a.title);
  assert.deepEqual(quickFixes, ["Optimize prompt", "Remove the filler (PD013)"]);
  assert.equal(shown[0].isPreferred, true);
  assert.equal(shown.length, 3);
});

test("a menu filtered by kind shows the server's actions unchanged", () => {
  const shown = preferredFirst(served(), true, "quickfix");
  assert.deepEqual(shown, served());
});

test("no preferred action, or a plain command, leaves the list alone", () => {
  const plain: Action[] = [
    { title: "Remove the filler (PD013)", kind: "quickfix" },
    { title: "Run", command: "promptd.optimize", isPreferred: true },
  ];
  assert.deepEqual(preferredFirst(plain, false, "quickfix"), plain);
});
