// package.json and the server's lsp/protocol.py must name the same commands and settings.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";

import {
  CLIENT_COMMANDS,
  LANGUAGES,
  NOTIFY_STATUS,
  SERVER_COMMANDS,
  SETTING_PATH,
  SETTINGS_QUERY_PATH,
} from "../src/constants";
import { SERVER_KEYS } from "../src/settings";

const root = path.resolve(__dirname, "..", "..");
const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
const protocolFile = path.resolve(root, "..", "..", "lsp", "protocol.py");

function protocolStrings(prefix: string): string[] {
  const text = fs.readFileSync(protocolFile, "utf8");
  const pattern = new RegExp(`^${prefix}\\w*: Final = "([^"]+)"`, "gm");
  return [...text.matchAll(pattern)].map((m) => m[1]);
}

test("every command the server and the client handle is in the palette", () => {
  const contributed = manifest.contributes.commands.map((c: { command: string }) => c.command);
  const expected = [...Object.values(SERVER_COMMANDS), ...Object.values(CLIENT_COMMANDS)];
  assert.deepEqual([...contributed].sort(), [...expected].sort());
});

test("every setting the server reads is contributed, plus promptd.path", () => {
  const keys = Object.keys(manifest.contributes.configuration.properties);
  const expected = [...SERVER_KEYS.map((k) => `promptd.${k}`), "promptd.path"];
  assert.deepEqual([...keys].sort(), [...expected].sort());
});

test("the extension activates on every language it serves, and .prompty is a prompt", () => {
  const events: string[] = manifest.activationEvents;
  assert.deepEqual(events, LANGUAGES.map((l) => `onLanguage:${l}`));
  const prompt = manifest.contributes.languages.find((l: { id: string }) => l.id === "prompt");
  assert.deepEqual(prompt.extensions, [".prompt", ".prompty"]);
});

test("the names agree with the server's lsp/protocol.py", { skip: !fs.existsSync(protocolFile) }, () => {
  assert.deepEqual(protocolStrings("CMD_").sort(), Object.values(SERVER_COMMANDS).sort());
  assert.deepEqual(protocolStrings("SETTING_").sort(), [...SERVER_KEYS].sort());
  assert.deepEqual(protocolStrings("NOTIFY_STATUS"), [NOTIFY_STATUS]);
});

test("promptd.path is read where users put it, also in a remote window", () => {
  // "machine" and "machine-overridable" settings in User settings are ignored in a remote
  // window (code-server, SSH, containers): the user's promptd.path had no effect.
  const setting = manifest.contributes.configuration.properties["promptd.path"];
  assert.equal(setting.scope, "window");
  // It names a program to run: a workspace the user has not trusted may not set it.
  const untrusted = manifest.capabilities.untrustedWorkspaces;
  assert.equal(untrusted.supported, "limited");
  assert.deepEqual(untrusted.restrictedConfigurations, ["promptd.path"]);
});

test("Open Settings shows exactly the promptd.path setting", () => {
  assert.equal(SETTINGS_QUERY_PATH, "@id:promptd.path");
  assert.ok(`promptd.${SETTING_PATH}` in manifest.contributes.configuration.properties);
});
