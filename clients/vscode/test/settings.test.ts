import assert from "node:assert/strict";
import { test } from "node:test";

import { DEFAULTS, toServerSettings } from "../src/settings";

function from(values: Record<string, unknown>) {
  return toServerSettings((key) => values[key]);
}

test("unset settings map to the server's defaults under the promptd section", () => {
  const mapped = from({});
  assert.deepEqual(mapped.settings, { promptd: DEFAULTS });
  assert.deepEqual(mapped.problems, []);
});

test("dotted VS Code keys become the server's nested section", () => {
  const mapped = from({
    engine: "llm",
    model: " grok-4.3 ",
    "diagnostics.enabled": false,
    "diagnostics.severity": "hint",
    "detection.minWords": 5,
    codeLens: false,
    targetModel: "claude",
    trimMaxTokens: 200,
  });
  assert.deepEqual(mapped.settings, {
    promptd: {
      engine: "llm",
      model: "grok-4.3",
      diagnostics: { enabled: false, severity: "hint" },
      detection: { minWords: 5 },
      codeLens: false,
      targetModel: "claude",
      trimMaxTokens: 200,
    },
  });
  assert.deepEqual(mapped.problems, []);
});

test("the extension's own path setting is never sent to the server", () => {
  const mapped = from({ path: "/opt/promptd/bin/promptd" });
  assert.equal("path" in mapped.settings.promptd, false);
});

test("a bad value falls back to the default and says what is wrong", () => {
  const mapped = from({ engine: "gpt", "detection.minWords": 0, codeLens: "yes" });
  assert.equal(mapped.settings.promptd.engine, "");
  assert.equal(mapped.settings.promptd.detection.minWords, 12);
  assert.equal(mapped.settings.promptd.codeLens, true);
  assert.equal(mapped.problems.length, 3);
  assert.match(mapped.problems[0], /promptd\.engine must be one of offline, llm or empty \(got "gpt"\)/);
  assert.match(mapped.problems[1], /promptd\.detection\.minWords must be a whole number/);
  assert.match(mapped.problems[2], /promptd\.codeLens must be true or false/);
});

test("a fractional word count is refused", () => {
  const mapped = from({ "detection.minWords": 2.5 });
  assert.equal(mapped.settings.promptd.detection.minWords, 12);
  assert.equal(mapped.problems.length, 1);
});

test("a bad target model or trim budget is reported and the default used", () => {
  const mapped = from({ targetModel: "gpt5", trimMaxTokens: -1 });
  assert.equal(mapped.settings.promptd.targetModel, "");
  assert.equal(mapped.settings.promptd.trimMaxTokens, 0);
  assert.equal(mapped.problems.length, 2);
  assert.match(mapped.problems[0], /promptd.targetModel must be one of grok, gpt, claude/);
});
