-- The promptd language server's client configuration, shared by every Neovim version:
-- `lsp/promptd.lua` (0.11+, vim.lsp.config) and `require('promptd').setup()` (0.7-0.10) both
-- build their tables from here, so the two can never drift apart.
local M = {}

M.name = 'promptd'

-- Filetypes the server understands. `text` is plaintext; `prompt` covers *.prompt and
-- *.prompty (see ftdetect/prompt.vim).
M.filetypes = {
  'python',
  'javascript',
  'typescript',
  'javascriptreact',
  'typescriptreact',
  'markdown',
  'text',
  'prompt',
}

M.root_markers = { '.git', 'pyproject.toml', 'package.json', 'prompts' }

-- Neovim filetype -> LSP languageId (the ids VS Code uses, which the server expects).
local language_ids = { text = 'plaintext' }

function M.language_id(_, filetype)
  return language_ids[filetype] or filetype
end

-- The server's command ids (the same strings as the server and the VS Code extension).
M.commands = {
  optimize = 'promptd.optimize',
  optimize_selection = 'promptd.optimizeSelection',
  show_history = 'promptd.showHistory',
  show_status = 'promptd.showStatus',
  start_daemon = 'promptd.startDaemon',
  stop_daemon = 'promptd.stopDaemon',
  extract_variables = 'promptd.extractVariables',
  trim = 'promptd.trim',
  similar_prompts = 'promptd.similarPrompts',
  search_library = 'promptd.searchLibrary',
  insert_text = 'promptd.insertText',
  pick_similar = 'promptd.pickSimilarPrompt', -- client-side: the "N similar prompts" lens
}

-- Commands this plugin runs itself (vim.lsp.commands), announced to the server in
-- initializationOptions (`clientCommands`) so it offers the actions that need them.
M.client_commands = {
  optimize_with_instruction = 'promptd.optimizeWithInstruction',
}

M.status_notification = 'promptd/status'
M.optimize_title = 'Optimize prompt'
M.optimize_kind = 'refactor.rewrite'

-- Handlers every promptd client gets: the status notification and progress tracking, both of
-- which feed require('promptd').statusline().
function M.handlers()
  local status = require('promptd.status')
  return {
    [M.status_notification] = status.on_status,
    ['$/progress'] = status.on_progress,
  }
end

-- The `promptd` settings section for the server (initializationOptions and
-- workspace/didChangeConfiguration): engine, model, diagnostics.enabled,
-- diagnostics.severity, detection.minWords, codeLens, targetModel (grok|gpt|claude|llama|
-- generic), trimMaxTokens (0: cut all filler). Unset keys keep the server's defaults.
function M.settings(promptd_settings)
  return { promptd = vim.deepcopy(promptd_settings or {}) }
end

-- initializationOptions: the settings section plus the client-side commands we implement.
-- Registers those commands' handlers, so a client started with these options has them.
function M.init_options(promptd_settings)
  require('promptd.instruction').register()
  local options = M.settings(promptd_settings)
  options.promptd.clientCommands = vim.tbl_values(M.client_commands)
  return options
end

-- The `cmd` to start the server: `promptd lsp`, with `path` replacing `promptd`.
function M.cmd(path)
  return { path or 'promptd', 'lsp' }
end

-- initializationOptions carry the same `promptd` section as `settings`, so the server has the
-- user's settings (set with vim.lsp.config) before the first document opens.
function M.before_init(params, client_config)
  if type(client_config.settings) == 'table' then
    params.initializationOptions =
      vim.tbl_deep_extend('force', params.initializationOptions or {}, client_config.settings)
  end
end

-- The config table for vim.lsp.config (0.11+): `lsp/promptd.lua` returns this.
function M.lsp_config()
  return {
    cmd = M.cmd(),
    filetypes = vim.deepcopy(M.filetypes),
    root_markers = vim.deepcopy(M.root_markers),
    get_language_id = M.language_id,
    init_options = M.init_options(),
    settings = M.settings(),
    before_init = M.before_init,
    handlers = M.handlers(),
  }
end

return M
