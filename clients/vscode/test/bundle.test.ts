// The .vsix ships dist/extension.js alone (no node_modules): it must need nothing but
// `vscode` and Node's own modules. Run after `npm run build` (the Makefile's order).
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { builtinModules } from "node:module";
import * as path from "node:path";
import { test } from "node:test";

const bundle = path.resolve(__dirname, "..", "..", "dist", "extension.js");

test("the bundle requires only vscode and Node built-ins", () => {
  assert.ok(fs.existsSync(bundle), `${bundle} is missing: run npm run build first`);
  const source = fs.readFileSync(bundle, "utf8");
  const required = new Set([...source.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]));
  const allowed = new Set(["vscode", ...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
  const foreign = [...required].filter((name) => !allowed.has(name));
  assert.deepEqual(foreign, []);
  assert.ok(required.has("vscode"));
  // vscode-languageclient is inside, and the server is started without `--stdio`.
  assert.match(source, /LanguageClient/);
  assert.match(source, /\["lsp"\]/);
});
