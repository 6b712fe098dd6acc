// promptd.optimize / promptd.optimizeSelection take [uri, range, prompt_type?] (LSP shapes).
// Code lenses and code actions pass them; the palette passes nothing and the editor's context
// menu passes the file's Uri object. Those get the active editor's uri and selection instead.
// No `vscode` import: unit-tested.

import { SERVER_COMMANDS } from "./constants";

interface Position {
  line: number;
  character: number;
}

function isPosition(value: unknown): value is Position {
  if (typeof value !== "object" || value === null) {
    return false;
  }
  const v = value as Record<string, unknown>;
  return Number.isInteger(v.line) && Number.isInteger(v.character);
}

/** True when `args` already is [uri string, LSP range, ...]. */
export function hasRangeArguments(args: readonly unknown[]): boolean {
  if (args.length < 2 || typeof args[0] !== "string") {
    return false;
  }
  const range = args[1];
  if (typeof range !== "object" || range === null) {
    return false;
  }
  const r = range as Record<string, unknown>;
  return isPosition(r.start) && isPosition(r.end);
}

/** True when `command` is one of those that act on a range and `args` lack one. */
export function needsEditorArguments(command: string, args: readonly unknown[]): boolean {
  const acts =
    command === SERVER_COMMANDS.optimize ||
    command === SERVER_COMMANDS.optimizeSelection ||
    command === SERVER_COMMANDS.extractVariables ||
    command === SERVER_COMMANDS.trim;
  return acts && !hasRangeArguments(args);
}
