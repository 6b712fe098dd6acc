// Past prompts from the daemon's library (issue 18): what the quick pick lists, and the
// arguments of the server's promptd.insertText. Nothing here imports `vscode`, so unit tests
// can load it; extension.ts shows the input box and the quick pick.

/** One past optimized prompt, as promptd.similarPrompts / promptd.searchLibrary list it. */
export interface PastPrompt {
  id: string;
  label: string;
  detail: string;
  text: string;
}

export interface PastPromptPick {
  label: string;
  detail: string;
  prompt: PastPrompt;
}

interface LspPosition {
  line: number;
  character: number;
}

export interface LspRange {
  start: LspPosition;
  end: LspPosition;
}

function isPastPrompt(value: unknown): value is PastPrompt {
  if (typeof value !== "object" || value === null) {
    return false;
  }
  const item = value as Record<string, unknown>;
  return ["id", "label", "detail", "text"].every((k) => typeof item[k] === "string");
}

/** The quick pick items of a server answer ({items: [...]}); [] for anything else. */
export function pastPromptPicks(result: unknown): PastPromptPick[] {
  const items = (result as { items?: unknown } | null | undefined)?.items;
  if (!Array.isArray(items)) {
    return [];
  }
  return items.filter(isPastPrompt).map((prompt) => ({
    label: prompt.label,
    detail: prompt.detail,
    prompt,
  }));
}

/** The arguments of promptd.insertText: [uri, range, text, inPrompt]. */
export function insertArguments(
  uri: string,
  range: LspRange,
  prompt: PastPrompt,
  inPrompt: boolean,
): [string, LspRange, string, boolean] {
  return [uri, range, prompt.text, inPrompt];
}

/** A similarPrompts answer's target: the prompt literal's uri and range, when well formed. */
export function similarTarget(result: unknown): { uri: string; range: LspRange } | undefined {
  const value = result as { uri?: unknown; range?: unknown } | null | undefined;
  if (!value || typeof value.uri !== "string" || typeof value.range !== "object" || !value.range) {
    return undefined;
  }
  return { uri: value.uri, range: value.range as LspRange };
}
