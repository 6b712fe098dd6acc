import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";

import { type Environment, currentEnvironment, resolveServerPath } from "../src/serverPath";

function env(executables: string[], overrides: Partial<Environment> = {}): Environment {
  const set = new Set(executables);
  return {
    pathVar: "/usr/local/bin:/opt/promptd/bin",
    pathExt: undefined,
    platform: "linux",
    home: "/home/ada",
    cwd: "/work/project",
    isExecutable: (file) => set.has(file),
    ...overrides,
  };
}

test("the default finds promptd on PATH", () => {
  const result = resolveServerPath(undefined, env(["/opt/promptd/bin/promptd"]));
  assert.deepEqual(result, { ok: true, command: "/opt/promptd/bin/promptd" });
});

test("an empty setting means the default", () => {
  const result = resolveServerPath("  ", env(["/usr/local/bin/promptd"]));
  assert.deepEqual(result, { ok: true, command: "/usr/local/bin/promptd" });
});

test("missing from PATH: a clear error naming the setting", () => {
  const result = resolveServerPath("promptd", env([]));
  assert.equal(result.ok, false);
  assert.match(!result.ok ? result.message : "", /"promptd" was not found on PATH.*promptd\.path/);
});

test("missing from PATH: the message names the folders it searched", () => {
  const result = resolveServerPath("promptd", env([]));
  assert.match(
    !result.ok ? result.message : "",
    /searched: \/usr\/local\/bin:\/opt\/promptd\/bin\)/,
  );
  const empty = resolveServerPath("promptd", env([], { pathVar: "" }));
  assert.match(!empty.ok ? empty.message : "", /\(PATH is empty\)/);
});

test("~ is the home folder", () => {
  const result = resolveServerPath("~/.local/bin/promptd", env(["/home/ada/.local/bin/promptd"]));
  assert.deepEqual(result, { ok: true, command: "/home/ada/.local/bin/promptd" });
});

test("a relative path is taken from the workspace folder", () => {
  const result = resolveServerPath(".venv/bin/promptd", env(["/work/project/.venv/bin/promptd"]));
  assert.deepEqual(result, { ok: true, command: "/work/project/.venv/bin/promptd" });
});

test("a path that is not executable is refused with its full name", () => {
  const result = resolveServerPath("/nope/promptd", env(["/opt/promptd/bin/promptd"]));
  assert.equal(result.ok, false);
  assert.match(!result.ok ? result.message : "", /\/nope\/promptd is not an executable file/);
});

test("Windows: PATHEXT extensions are tried", () => {
  const result = resolveServerPath(
    "promptd",
    env(["C:\\tools\\promptd.EXE"], { platform: "win32", pathVar: "C:\\bin;C:\\tools", pathExt: ".EXE;.CMD" }),
  );
  assert.deepEqual(result, { ok: true, command: "C:\\tools\\promptd.EXE" });
});

test("the real file system: an executable file is found, a plain file is not", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "promptd-path-"));
  try {
    const exe = path.join(dir, "promptd");
    fs.writeFileSync(exe, "#!/bin/sh\n");
    fs.chmodSync(exe, 0o644);
    const real = { ...currentEnvironment(dir), pathVar: dir };
    assert.equal(resolveServerPath("promptd", real).ok, false);
    fs.chmodSync(exe, 0o755);
    assert.deepEqual(resolveServerPath("promptd", real), { ok: true, command: exe });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
