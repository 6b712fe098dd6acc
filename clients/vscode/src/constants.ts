// The names the extension shares with the language server (lsp/protocol.py is the source of
// truth: change both together). Nothing here imports `vscode`, so unit tests can load it.

/** Commands the server executes (workspace/executeCommand); the same ids as the server's. */
export const SERVER_COMMANDS = {
  optimize: "promptd.optimize",
  optimizeSelection: "promptd.optimizeSelection",
  showHistory: "promptd.showHistory",
  showStatus: "promptd.showStatus",
  startDaemon: "promptd.startDaemon",
  stopDaemon: "promptd.stopDaemon",
  extractVariables: "promptd.extractVariables",
  trim: "promptd.trim",
  similarPrompts: "promptd.similarPrompts",
  searchLibrary: "promptd.searchLibrary",
  insertText: "promptd.insertText",
} as const;

/** Commands the extension itself handles. */
export const CLIENT_COMMANDS = {
  restartServer: "promptd.restartServer",
  openDashboard: "promptd.openDashboard",
  optimizeWithInstruction: "promptd.optimizeWithInstruction",
  pickSimilarPrompt: "promptd.pickSimilarPrompt",
  insertPastPrompt: "promptd.insertPastPrompt",
} as const;

/** Server -> client notification feeding the status bar. */
export const NOTIFY_STATUS = "promptd/status";

/** The settings section: initializationOptions and didChangeConfiguration carry it. */
export const SETTINGS_SECTION = "promptd";

/** The extension's own setting (never sent to the server). */
export const SETTING_PATH = "path";

/**
 * The Settings editor query that shows `promptd.path` and nothing else, in whichever tab
 * (User, Remote, Workspace) it is opened: `@id:` matches the full id, where a plain
 * "promptd.path" text search found "No Settings" in a remote window's User tab.
 */
export const SETTINGS_QUERY_PATH = `@id:${SETTINGS_SECTION}.${SETTING_PATH}`;

/** The languages the server understands (VS Code language ids); `prompt` is ours. */
export const LANGUAGES = [
  "python",
  "javascript",
  "typescript",
  "javascriptreact",
  "typescriptreact",
  "markdown",
  "plaintext",
  "prompt",
] as const;

export const CLIENT_ID = "promptd";
export const CLIENT_NAME = "promptd";
