// Where `promptd` is: the `promptd.path` setting, a bare name looked up on PATH or a path
// (with `~` expanded). No `vscode` import: unit-tested with a fake file system view.

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface Environment {
  /** The PATH variable's value. */
  pathVar: string | undefined;
  /** Windows' PATHEXT (".EXE;.CMD;…"); ignored elsewhere. */
  pathExt: string | undefined;
  platform: NodeJS.Platform;
  home: string;
  /** Relative paths are taken from here (the first workspace folder, or the cwd). */
  cwd: string;
  /** True when `file` exists, is a file and may be executed. */
  isExecutable: (file: string) => boolean;
}

export type Resolution =
  | { ok: true; command: string }
  | { ok: false; message: string };

export const DEFAULT_COMMAND = "promptd";

export function isExecutableFile(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) {
      return false;
    }
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function currentEnvironment(cwd: string = process.cwd()): Environment {
  return {
    pathVar: process.env.PATH ?? process.env.Path,
    pathExt: process.env.PATHEXT,
    platform: process.platform,
    home: os.homedir(),
    cwd,
    isExecutable: isExecutableFile,
  };
}

function hasSeparator(value: string, platform: NodeJS.Platform): boolean {
  return value.includes("/") || (platform === "win32" && value.includes("\\"));
}

/** Resolve the `promptd.path` setting to an executable, or say what is wrong. */
export function resolveServerPath(setting: unknown, env: Environment): Resolution {
  const p = env.platform === "win32" ? path.win32 : path.posix;
  let value = typeof setting === "string" ? setting.trim() : "";
  if (value === "") {
    value = DEFAULT_COMMAND;
  }
  if (value === "~" || value.startsWith("~/") || value.startsWith("~\\")) {
    value = p.join(env.home, value.slice(1));
  }
  const exts =
    env.platform === "win32"
      ? ["", ...(env.pathExt ?? ".EXE;.CMD;.BAT;.COM").split(";").filter((e) => e !== "")]
      : [""];

  if (hasSeparator(value, env.platform) || p.isAbsolute(value)) {
    const full = p.isAbsolute(value) ? value : p.resolve(env.cwd, value);
    for (const ext of exts) {
      if (env.isExecutable(full + ext)) {
        return { ok: true, command: full + ext };
      }
    }
    return {
      ok: false,
      message:
        `promptd.path is "${setting}", but ${full} is not an executable file. ` +
        "Install promptd there or point promptd.path at the promptd executable.",
    };
  }

  const dirs = (env.pathVar ?? "").split(p.delimiter).filter((d) => d !== "");
  for (const dir of dirs) {
    for (const ext of exts) {
      const candidate = p.join(dir, value + ext);
      if (env.isExecutable(candidate)) {
        return { ok: true, command: candidate };
      }
    }
  }
  const searched = dirs.length > 0 ? dirs.join(p.delimiter) : "(PATH is empty)";
  return {
    ok: false,
    message:
      `"${value}" was not found on PATH (searched: ${searched}). Install promptd (it ` +
      "provides the promptd command) or set promptd.path to the full path of the promptd " +
      "executable.",
  };
}
