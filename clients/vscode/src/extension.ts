// The promptd extension: starts `promptd lsp` over stdio and wires VS Code to it (code
// actions, diagnostics, hover and code lens come from the server as they are), adds the
// status bar item fed by `promptd/status`, sends settings on change, and gives the palette
// commands the arguments the server needs.

import * as vscode from "vscode";
import {
  DidChangeConfigurationNotification,
  type Executable,
  LanguageClient,
  type LanguageClientOptions,
  type Middleware,
  State,
} from "vscode-languageclient/node";

import { execFile } from "node:child_process";

import { preferredFirst } from "./actionOrder";
import { needsEditorArguments } from "./commandArgs";
import {
  CLIENT_COMMANDS,
  CLIENT_ID,
  CLIENT_NAME,
  LANGUAGES,
  NOTIFY_STATUS,
  SERVER_COMMANDS,
  SETTING_PATH,
  SETTINGS_QUERY_PATH,
  SETTINGS_SECTION,
} from "./constants";
import { dashboardUrl } from "./dashboard";
import { currentEnvironment, resolveServerPath } from "./serverPath";
import { type Mapped, toServerSettings } from "./settings";
import { type LspRange, insertArguments, pastPromptPicks, similarTarget } from "./pastPrompts";
import { historyReport, statusReport } from "./reports";
import { INSTRUCTION_PLACEHOLDER, INSTRUCTION_PROMPT, optimizeWithInstruction, withClientCommands } from "./instruction";
import { type StatusParams, statusView } from "./statusText";

const RUNNING_CONTEXT = "promptd.serverRunning";

let client: LanguageClient | undefined;
let output: vscode.OutputChannel;
let statusItem: vscode.StatusBarItem;
let extensionUri: vscode.Uri;

/** The server's settings section; `warn` tells the user about bad values (once per change). */
function readSettings(warn = true): Mapped {
  const config = vscode.workspace.getConfiguration(SETTINGS_SECTION);
  const mapped = toServerSettings((key) => config.get(key));
  if (!warn) {
    return mapped;
  }
  for (const problem of mapped.problems) {
    output.appendLine(`[settings] ${problem}`);
  }
  if (mapped.problems.length > 0) {
    void vscode.window.showWarningMessage(`promptd: ${mapped.problems.join("; ")}`);
  }
  return mapped;
}

function showStatus(status: StatusParams | undefined): void {
  const view = statusView(status);
  statusItem.text = view.text;
  statusItem.tooltip = view.tooltip;
  statusItem.backgroundColor = view.warning
    ? new vscode.ThemeColor("statusBarItem.warningBackground")
    : undefined;
  statusItem.command = SERVER_COMMANDS.showStatus;
  statusItem.show();
}

function showBroken(reason: string): void {
  statusItem.text = "$(error) promptd";
  statusItem.tooltip = `promptd: ${reason}`;
  statusItem.backgroundColor = new vscode.ThemeColor("statusBarItem.errorBackground");
  statusItem.command = CLIENT_COMMANDS.restartServer;
  statusItem.show();
}

async function offerInstallHelp(message: string): Promise<void> {
  output.appendLine(`[start] ${message}`);
  const choice = await vscode.window.showErrorMessage(
    `promptd: ${message}`,
    "How to install",
    "Open Settings",
  );
  if (choice === "How to install") {
    // The README bundled with the extension: its "Install" section says what to do
    // (vsce stores it as readme.md; a development checkout has README.md).
    for (const name of ["readme.md", "README.md"]) {
      const readme = vscode.Uri.joinPath(extensionUri, name);
      try {
        await vscode.workspace.fs.stat(readme);
      } catch {
        continue;
      }
      await vscode.commands.executeCommand("markdown.showPreview", readme);
      return;
    }
  } else if (choice === "Open Settings") {
    await vscode.commands.executeCommand("workbench.action.openSettings", SETTINGS_QUERY_PATH);
  }
}

/** The LSP arguments [uri, range] of the active editor's selection (or cursor). */
function editorArguments(lc: LanguageClient): unknown[] | undefined {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showWarningMessage(
      "promptd: open a file and put the cursor in a prompt (or select text) first.",
    );
    return undefined;
  }
  const converter = lc.code2ProtocolConverter;
  return [converter.asUri(editor.document.uri), converter.asRange(editor.selection)];
}

function printLines(lines: string[]): void {
  output.appendLine("");
  for (const line of lines) {
    output.appendLine(line);
  }
  output.show(true);
}

function middleware(): Middleware {
  return {
    // The palette and the context menu do not pass [uri, range]: give the editor's.
    executeCommand: async (command, args, next) => {
      let sent = args;
      if (needsEditorArguments(command, args) && client) {
        const filled = editorArguments(client);
        if (!filled) {
          return undefined;
        }
        sent = filled;
      }
      const result: unknown = await next(command, sent);
      if (command === SERVER_COMMANDS.showStatus) {
        printLines(statusReport(result));
      } else if (command === SERVER_COMMANDS.showHistory) {
        printLines(historyReport(result));
      }
      return result;
    },
    // Ctrl+. and the lightbulb: "Optimize prompt" (the server's preferred action) first.
    provideCodeActions: async (document, range, context, token, next) => {
      const actions = await next(document, range, context, token);
      if (!actions) {
        return actions;
      }
      return preferredFirst(actions, context.only !== undefined, vscode.CodeActionKind.QuickFix);
    },
    workspace: {
      // A server that pulls settings gets the same mapped section it is pushed.
      configuration: async (params, token, next) => {
        const answers = await next(params, token);
        if (!Array.isArray(answers)) {
          return answers;
        }
        return params.items.map((item, i) =>
          item.section === SETTINGS_SECTION ? readSettings(false).settings.promptd : answers[i],
        );
      },
    },
  };
}

async function startClient(): Promise<void> {
  const config = vscode.workspace.getConfiguration(SETTINGS_SECTION);
  const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const resolved = resolveServerPath(config.get(SETTING_PATH), currentEnvironment(cwd));
  if (!resolved.ok) {
    showBroken(resolved.message);
    void vscode.commands.executeCommand("setContext", RUNNING_CONTEXT, false);
    void offerInstallHelp(resolved.message);
    return;
  }

  // No `transport` here: with one, vscode-languageclient appends `--stdio` to the arguments.
  const executable: Executable = { command: resolved.command, args: ["lsp"], options: { cwd } };
  const selector = LANGUAGES.flatMap((language) => [
    { scheme: "file", language },
    { scheme: "untitled", language },
  ]);
  const options: LanguageClientOptions = {
    documentSelector: selector,
    initializationOptions: withClientCommands(readSettings().settings),
    outputChannel: output,
    middleware: middleware(),
  };
  const lc = new LanguageClient(CLIENT_ID, CLIENT_NAME, executable, options);
  lc.onDidChangeState((event) => {
    const running = event.newState === State.Running;
    void vscode.commands.executeCommand("setContext", RUNNING_CONTEXT, running);
    if (event.newState === State.Stopped) {
      showBroken("the language server stopped; run “promptd: Restart Language Server”.");
    }
  });
  // Registered before start so the first status (sent on connect) is not missed.
  lc.onNotification(NOTIFY_STATUS, (params: StatusParams) => showStatus(params));
  client = lc;
  showStatus(undefined);
  try {
    await lc.start();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    showBroken(`could not start ${resolved.command} lsp: ${message}`);
    output.appendLine(`[start] ${resolved.command} lsp failed: ${message}`);
    void vscode.window.showErrorMessage(
      `promptd: could not start "${resolved.command} lsp": ${message}. See the promptd output.`,
    );
    return;
  }
}

async function stopClient(): Promise<void> {
  const lc = client;
  client = undefined;
  if (lc && lc.state !== State.Stopped) {
    try {
      await lc.stop();
    } catch (err) {
      output.appendLine(`[stop] ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

async function restart(): Promise<void> {
  await stopClient();
  await startClient();
}

function onConfigurationChanged(event: vscode.ConfigurationChangeEvent): void {
  if (event.affectsConfiguration(`${SETTINGS_SECTION}.${SETTING_PATH}`)) {
    void restart();
    return;
  }
  if (event.affectsConfiguration(SETTINGS_SECTION) && client?.state === State.Running) {
    void client.sendNotification(DidChangeConfigurationNotification.type, {
      settings: readSettings().settings,
    });
  }
}

/** "promptd: Open dashboard": `promptd dashboard --json` (starts the daemon if needed), then
 *  the URL in the user's browser. */
async function openDashboard(): Promise<void> {
  const config = vscode.workspace.getConfiguration(SETTINGS_SECTION);
  const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const resolved = resolveServerPath(config.get(SETTING_PATH), currentEnvironment(cwd));
  if (!resolved.ok) {
    void vscode.window.showErrorMessage(`promptd: ${resolved.message}`);
    return;
  }
  execFile(resolved.command, ["dashboard", "--json"], { cwd, timeout: 30_000 }, (error, stdout, stderr) => {
    const answer = dashboardUrl(stdout, error ? stderr || error.message : "");
    if (!answer.ok) {
      output.appendLine(`[dashboard] ${answer.message}`);
      void vscode.window.showErrorMessage(`promptd: ${answer.message}`);
      return;
    }
    void vscode.env.openExternal(vscode.Uri.parse(answer.url, true));
  });
}

/** "Optimize prompt with instruction…": ask in an input box, then optimize with it. */
async function instructed(...args: unknown[]): Promise<unknown> {
  const lc = client;
  if (!lc) {
    void vscode.window.showWarningMessage("promptd: the language server is not running.");
    return undefined;
  }
  return optimizeWithInstruction(
    args,
    () =>
      vscode.window.showInputBox({
        title: "promptd: Optimize prompt with instruction",
        prompt: INSTRUCTION_PROMPT,
        placeHolder: INSTRUCTION_PLACEHOLDER,
        ignoreFocusOut: true,
      }),
    (command, sent) => vscode.commands.executeCommand(command, ...sent),
    () => editorArguments(lc),
  );
}

/** Let the user pick one of a library answer's past prompts (undefined: none or cancelled). */
async function pickPastPrompt(result: unknown, title: string) {
  const picks = pastPromptPicks(result);
  if (picks.length === 0) {
    void vscode.window.showInformationMessage("promptd: no past prompt found");
    return undefined;
  }
  return vscode.window.showQuickPick(picks, { title, matchOnDetail: true });
}

/** The "N similar prompts" lens: list them, put the chosen one in place of the prompt's content. */
async function pickSimilarPrompt(uri: string, range: LspRange): Promise<void> {
  const result: unknown = await vscode.commands.executeCommand(SERVER_COMMANDS.similarPrompts, uri, range);
  const target = similarTarget(result);
  const chosen = target && (await pickPastPrompt(result, "Similar past prompts"));
  if (target && chosen) {
    await vscode.commands.executeCommand(
      SERVER_COMMANDS.insertText,
      ...insertArguments(target.uri, target.range, chosen.prompt, true),
    );
  }
}

/** Insert a past optimized prompt at the cursor (or over the selection), found by search. */
async function insertPastPrompt(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showWarningMessage("promptd: open a file to insert a past prompt into");
    return;
  }
  const query = await vscode.window.showInputBox({
    title: "Insert a past optimized prompt",
    prompt: "Search past prompts",
    placeHolder: "e.g. summarize a support ticket",
  });
  if (!query || !query.trim()) {
    return;
  }
  const result: unknown = await vscode.commands.executeCommand(SERVER_COMMANDS.searchLibrary, query);
  const chosen = await pickPastPrompt(result, "Past prompts");
  if (!chosen) {
    return;
  }
  const { start, end } = editor.selection;
  const range: LspRange = {
    start: { line: start.line, character: start.character },
    end: { line: end.line, character: end.character },
  };
  await vscode.commands.executeCommand(
    SERVER_COMMANDS.insertText,
    ...insertArguments(editor.document.uri.toString(), range, chosen.prompt, false),
  );
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  extensionUri = context.extensionUri;
  output = vscode.window.createOutputChannel("promptd");
  statusItem = vscode.window.createStatusBarItem("promptd.status", vscode.StatusBarAlignment.Right, 100);
  statusItem.name = "promptd";
  statusItem.command = SERVER_COMMANDS.showStatus;
  context.subscriptions.push(
    output,
    statusItem,
    vscode.commands.registerCommand(CLIENT_COMMANDS.restartServer, restart),
    vscode.commands.registerCommand(CLIENT_COMMANDS.openDashboard, openDashboard),
    vscode.commands.registerCommand(CLIENT_COMMANDS.optimizeWithInstruction, instructed),
    vscode.commands.registerCommand(CLIENT_COMMANDS.pickSimilarPrompt, pickSimilarPrompt),
    vscode.commands.registerCommand(CLIENT_COMMANDS.insertPastPrompt, insertPastPrompt),
    vscode.workspace.onDidChangeConfiguration(onConfigurationChanged),
    { dispose: () => void stopClient() },
  );
  await startClient();
}

export function deactivate(): Promise<void> | undefined {
  return client ? stopClient() : undefined;
}
