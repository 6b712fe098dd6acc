// "Optimize prompt with instruction…": the server's code action carries this client-side
// command with [uri, range, prompt_type]. The extension asks for the instruction (an input
// box) and runs the server's promptd.optimize with [uri, range, prompt_type, {instruct}].
// A cancelled or empty input runs nothing. No `vscode` import: unit-tested with fakes.

import { CLIENT_COMMANDS, SERVER_COMMANDS } from "./constants";
import { hasRangeArguments } from "./commandArgs";

/** Asks the user for the instruction; undefined when they cancel. */
export type Ask = () => PromiseLike<string | undefined>;
/** Runs a server command (workspace/executeCommand through the language client). */
export type Run = (command: string, args: unknown[]) => PromiseLike<unknown>;

export const INSTRUCTION_PROMPT = "How should promptd rewrite this prompt?";
export const INSTRUCTION_PLACEHOLDER = "e.g. more formal, under 100 words, as bullet points";

/**
 * Ask, then optimize with the answer. `args` are the action's [uri, range, prompt_type?]
 * (or none: `fallback()` gives the active editor's [uri, range]). Returns the server's
 * answer, or undefined when nothing was run.
 */
export async function optimizeWithInstruction(
  args: readonly unknown[],
  ask: Ask,
  run: Run,
  fallback: () => unknown[] | undefined = () => undefined,
): Promise<unknown> {
  const target = hasRangeArguments(args) ? args.slice(0, 2) : fallback();
  if (!target) {
    return undefined;
  }
  const promptType = typeof args[2] === "string" ? args[2] : "auto";
  const answer = await ask();
  const instruct = answer?.trim();
  if (!instruct) {
    return undefined;
  }
  return run(SERVER_COMMANDS.optimize, [...target, promptType, { instruct }]);
}

/** The client-side commands this extension implements, announced to the server. */
export const IMPLEMENTED = [CLIENT_COMMANDS.optimizeWithInstruction] as const;

/** initializationOptions: the settings section plus the `clientCommands` we implement. */
export function withClientCommands<T extends { promptd: object }>(
  settings: T,
): T & { promptd: { clientCommands: string[] } } {
  return { ...settings, promptd: { ...settings.promptd, clientCommands: [...IMPLEMENTED] } };
}
