"""The names editors rely on: command ids, settings keys, custom notifications.

The VS Code extension and the Neovim plugin use exactly these strings; change them
together with the clients (``clients/vscode/src/constants.ts``, ``clients/neovim``).
"""

from __future__ import annotations

from typing import Final

SERVER_NAME: Final = "promptd"

# --- commands (workspace/executeCommand) ---------------------------------------------------
# promptd.optimize: arguments [uri, range, prompt_type?]; range is an LSP Range inside a
# prompt (or a selection). Reports work-done progress and applies the result with
# workspace/applyEdit.
CMD_OPTIMIZE: Final = "promptd.optimize"
# promptd.optimizeSelection: arguments [uri, range, prompt_type?]; the range is optimized
# as-is, whether or not it lies in a detected prompt.
CMD_OPTIMIZE_SELECTION: Final = "promptd.optimizeSelection"
# promptd.showHistory: arguments [uri?, range?]; returns the daemon's history items (for the
# prompt at the range when given) and shows a summary with window/showMessage.
CMD_SHOW_HISTORY: Final = "promptd.showHistory"
# promptd.showStatus: no arguments; returns the daemon status and sends promptd/status.
CMD_SHOW_STATUS: Final = "promptd.showStatus"
CMD_START_DAEMON: Final = "promptd.startDaemon"
CMD_STOP_DAEMON: Final = "promptd.stopDaemon"

# promptd.extractVariables: arguments [uri, range]; the prompt at the range becomes a template
# (daemon ``templatize``), applied with workspace/applyEdit; the extracted values are shown.
CMD_EXTRACT_VARIABLES: Final = "promptd.extractVariables"
# promptd.trim: arguments [uri, range]; the prompt at the range is trimmed (daemon ``trim``
# with the promptd.trimMaxTokens setting) and applied; tokens before -> after are shown.
CMD_TRIM: Final = "promptd.trim"
# --- the library: similar past prompts, insert a past prompt (issue 18) --------------------
# promptd.similarPrompts: arguments [uri, range]; returns {"uri", "range" (the prompt
# literal's), "items": [{"id", "label", "detail", "text" (the optimized prompt)}]}.
CMD_SIMILAR_PROMPTS: Final = "promptd.similarPrompts"
# promptd.searchLibrary: arguments [text]; returns {"items": [...]} as above.
CMD_SEARCH_LIBRARY: Final = "promptd.searchLibrary"
# promptd.insertText: arguments [uri, range, text, inPrompt?]; applies an edit putting text
# at the range, or (inPrompt) in place of the content of the prompt literal there, kept valid.
CMD_INSERT_TEXT: Final = "promptd.insertText"

COMMANDS: Final[tuple[str, ...]] = (
    CMD_OPTIMIZE,
    CMD_OPTIMIZE_SELECTION,
    CMD_SHOW_HISTORY,
    CMD_SHOW_STATUS,
    CMD_START_DAEMON,
    CMD_STOP_DAEMON,
    CMD_EXTRACT_VARIABLES,
    CMD_TRIM,
    CMD_SIMILAR_PROMPTS,
    CMD_SEARCH_LIBRARY,
    CMD_INSERT_TEXT,
)


# Client-side commands (the editor shows the picker, then calls the server commands above):
# the "N similar prompts" lens runs promptd.pickSimilarPrompt [uri, range];
# promptd.insertPastPrompt asks for search text, lists the hits, inserts the chosen one at
# the cursor (or over the selection).
CLIENT_PICK_SIMILAR: Final = "promptd.pickSimilarPrompt"
CLIENT_INSERT_PAST_PROMPT: Final = "promptd.insertPastPrompt"

# --- custom notifications (server -> client) -----------------------------------------------
# promptd/status: {"connected": bool, "engine": str, "model": str, "circuit": str,
#                  "spend_today_usd": float, "daily_budget_usd": float | null, "message": str}
NOTIFY_STATUS: Final = "promptd/status"

# --- settings ------------------------------------------------------------------------------
# Given in initializationOptions and workspace/didChangeConfiguration under a "promptd"
# section, nested ({"diagnostics": {"enabled": true}}) or dotted ("diagnostics.enabled").
SETTINGS_SECTION: Final = "promptd"
SETTING_ENGINE: Final = "engine"  # "" (the daemon's configured engine) | offline | llm
SETTING_MODEL: Final = "model"  # "" (the daemon's configured model) | a model name
SETTING_DIAGNOSTICS_ENABLED: Final = "diagnostics.enabled"  # bool, default true
SETTING_DIAGNOSTICS_SEVERITY: Final = "diagnostics.severity"  # error|warning|information|hint
SETTING_DETECTION_MIN_WORDS: Final = "detection.minWords"  # int >= 1, default 12
SETTING_CODE_LENS: Final = "codeLens"  # bool, default true

SETTINGS: Final[tuple[str, ...]] = (
    SETTING_ENGINE,
    SETTING_MODEL,
    SETTING_DIAGNOSTICS_ENABLED,
    SETTING_DIAGNOSTICS_SEVERITY,
    SETTING_DETECTION_MIN_WORDS,
    SETTING_CODE_LENS,
)

# Where the rule codes of diagnostics are documented (Diagnostic.codeDescription links to
# this file of the promptd checkout, with the rule code as the anchor).
RULES_DOC_PATH: Final = "docs/rules.md"

# The code action "data" marker, so resolve knows our actions from anyone else's.
ACTION_DATA_KIND: Final = "promptd.optimize"

# --- prompt tools (issue 19) ---------------------------------------------------------------
# promptd.optimizeWithInstruction: a CLIENT-side command, arguments [uri, range, prompt_type].
# The client asks the user for an instruction, then runs promptd.optimize with
# [uri, range, prompt_type, {"instruct": TEXT}]; a cancelled input runs nothing. The server
# offers the action only to clients that list it in the clientCommands setting.
CLIENT_CMD_OPTIMIZE_WITH_INSTRUCTION: Final = "promptd.optimizeWithInstruction"

TOOL_COMMANDS: Final[tuple[str, ...]] = (CMD_EXTRACT_VARIABLES, CMD_TRIM)
CLIENT_COMMANDS: Final[tuple[str, ...]] = (CLIENT_CMD_OPTIMIZE_WITH_INSTRUCTION,)

SETTING_TARGET_MODEL: Final = "targetModel"  # "" (the daemon's default) | grok|gpt|claude|...
SETTING_TRIM_MAX_TOKENS: Final = "trimMaxTokens"  # int >= 0; 0: cut all trim safely can
# Not a user setting: the client-side commands the editor implements (initializationOptions
# only, set by our clients), e.g.
# ["promptd.optimizeWithInstruction"]; actions that need one are offered only then.
INIT_CLIENT_COMMANDS: Final = "clientCommands"
TOOL_SETTINGS: Final[tuple[str, ...]] = (
    SETTING_TARGET_MODEL,
    SETTING_TRIM_MAX_TOKENS,
    INIT_CLIENT_COMMANDS,
)
TARGET_MODELS: Final[tuple[str, ...]] = ("grok", "gpt", "claude", "llama", "generic")

# The code action "data" marker of the tool actions ({"tool": "templatize" | "trim"}).
ACTION_DATA_TOOL: Final = "promptd.tool"
