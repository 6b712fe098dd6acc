import assert from "node:assert/strict";
import { test } from "node:test";

import { optimizeWithInstruction, withClientCommands } from "../src/instruction";

const URI = "file:///work/app.py";
const RANGE = { start: { line: 0, character: 4 }, end: { line: 0, character: 9 } };

function recorder() {
  const calls: { command: string; args: unknown[] }[] = [];
  const run = async (command: string, args: unknown[]) => {
    calls.push({ command, args });
    return { applied: true };
  };
  return { calls, run };
}

test("the instruction typed in the input box goes to promptd.optimize", async () => {
  const { calls, run } = recorder();
  const result = await optimizeWithInstruction(
    [URI, RANGE, "technical"],
    async () => "  more formal, under 100 words ",
    run,
  );
  assert.deepEqual(result, { applied: true });
  assert.deepEqual(calls, [
    {
      command: "promptd.optimize",
      args: [URI, RANGE, "technical", { instruct: "more formal, under 100 words" }],
    },
  ]);
});

test("cancelling the input box (or leaving it empty) runs nothing", async () => {
  const { calls, run } = recorder();
  assert.equal(await optimizeWithInstruction([URI, RANGE, "auto"], async () => undefined, run), undefined);
  assert.equal(await optimizeWithInstruction([URI, RANGE, "auto"], async () => "   ", run), undefined);
  assert.deepEqual(calls, []);
});

test("from the palette (no arguments) the active editor's range is used, or nothing runs", async () => {
  const { calls, run } = recorder();
  let asked = 0;
  const ask = async () => {
    asked += 1;
    return "shorter";
  };
  await optimizeWithInstruction([], ask, run, () => [URI, RANGE]);
  assert.deepEqual(calls[0].args, [URI, RANGE, "auto", { instruct: "shorter" }]);
  await optimizeWithInstruction([], ask, run, () => undefined);
  assert.equal(calls.length, 1);
  assert.equal(asked, 1, "no editor: the user is not asked for an instruction");
});

test("the server is told the extension runs the instruction command", () => {
  const options = withClientCommands({ promptd: { engine: "" } });
  assert.deepEqual(options, {
    promptd: { engine: "", clientCommands: ["promptd.optimizeWithInstruction"] },
  });
});
