import assert from "node:assert/strict";
import { test } from "node:test";

import { hasRangeArguments, needsEditorArguments } from "../src/commandArgs";

const range = { start: { line: 2, character: 17 }, end: { line: 2, character: 40 } };

test("a code lens's [uri, range, type] goes to the server as it is", () => {
  assert.equal(needsEditorArguments("promptd.optimize", ["file:///a.py", range, "code"]), false);
  assert.equal(hasRangeArguments(["file:///a.py", range]), true);
});

test("the palette's empty arguments are filled from the editor", () => {
  assert.equal(needsEditorArguments("promptd.optimize", []), true);
  assert.equal(needsEditorArguments("promptd.optimizeSelection", []), true);
  assert.equal(needsEditorArguments("promptd.extractVariables", []), true);
  assert.equal(needsEditorArguments("promptd.trim", []), true);
  assert.equal(needsEditorArguments("promptd.trim", ["file:///a.py", range]), false);
});

test("the context menu's Uri object is replaced by the editor's uri and selection", () => {
  const uriObject = { scheme: "file", path: "/a.py" };
  assert.equal(needsEditorArguments("promptd.optimizeSelection", [uriObject]), true);
});

test("a range that is not an LSP range does not pass", () => {
  assert.equal(hasRangeArguments(["file:///a.py", { start: 1, end: 2 }]), false);
});

test("other commands are left alone", () => {
  assert.equal(needsEditorArguments("promptd.showStatus", []), false);
});
