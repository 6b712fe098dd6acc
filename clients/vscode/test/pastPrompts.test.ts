import assert from "node:assert/strict";
import { test } from "node:test";

import { insertArguments, pastPromptPicks, similarTarget } from "../src/pastPrompts";

const ITEM = {
  id: "01JD3Q8",
  label: "Write a short paragraph about dogs for children.",
  detail: "72% similar · score 88 · 2026-12-03 · kept · 01JD3Q8",
  text: "Write a short paragraph about dogs for children.\n\n## Output format\nOne paragraph.",
};
const RANGE = { start: { line: 2, character: 16 }, end: { line: 2, character: 70 } };

test("the quick pick lists each past prompt with its similarity, score and id", () => {
  const picks = pastPromptPicks({ items: [ITEM, { id: 3 }] });
  assert.equal(picks.length, 1);
  assert.equal(picks[0].label, ITEM.label);
  assert.match(picks[0].detail, /72% similar · score 88/);
  assert.equal(picks[0].prompt.text, ITEM.text);
});

test("an answer without items lists nothing", () => {
  assert.deepEqual(pastPromptPicks(undefined), []);
  assert.deepEqual(pastPromptPicks({ items: "no" }), []);
});

test("the chosen optimized prompt goes to promptd.insertText, in the prompt or at the cursor", () => {
  assert.deepEqual(insertArguments("file:///a.py", RANGE, ITEM, true), ["file:///a.py", RANGE, ITEM.text, true]);
  assert.deepEqual(insertArguments("file:///a.py", RANGE, ITEM, false)[3], false);
});

test("the similar prompts' target is the answer's uri and range", () => {
  assert.deepEqual(similarTarget({ uri: "file:///a.py", range: RANGE, items: [] }), {
    uri: "file:///a.py",
    range: RANGE,
  });
  assert.equal(similarTarget({ items: [] }), undefined);
});
