// Ctrl+. and the lightbulb group code actions by kind, Quick Fixes before Rewrites, so the
// server's local fixes ("Remove the filler (PD013)") came before "Optimize prompt" and Enter
// took the filler fix. The server marks "Optimize prompt" preferred (lsp/features/actions.py);
// in an unfiltered menu the extension shows preferred actions as the first quick fixes.
// A menu filtered by kind (Refactor…, Source Action…) is left as the server sent it.
// No `vscode` import: unit-tested.

export interface ActionLike<K> {
  title: string;
  kind?: K;
  isPreferred?: boolean;
}

/** A plain Command (`command` is its id) rather than a CodeAction. */
function isCommand(item: unknown): boolean {
  return typeof (item as { command?: unknown }).command === "string";
}

/**
 * `items` with the preferred code actions first and of kind `quickFix`, when the request was
 * not filtered by kind (`filtered` false); otherwise `items` unchanged.
 */
export function preferredFirst<K, T extends ActionLike<K>>(
  items: T[],
  filtered: boolean,
  quickFix: K,
): T[] {
  if (filtered) {
    return items;
  }
  const preferred = items.filter((item) => !isCommand(item) && item.isPreferred === true);
  if (preferred.length === 0) {
    return items;
  }
  for (const item of preferred) {
    item.kind = quickFix;
  }
  return [...preferred, ...items.filter((item) => !preferred.includes(item))];
}
