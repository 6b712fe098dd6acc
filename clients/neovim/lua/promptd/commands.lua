-- The user commands' work: :PromptdOptimize runs the server's "Optimize prompt" code action
-- on the prompt under the cursor (or the selection), :PromptdStatus / :PromptdHistory show
-- what the server says, :PromptdDaemon start|stop drives the daemon.
local client_mod = require('promptd.client')
local config = require('promptd.config')

local M = {}

local function notify(message, level)
  vim.notify('promptd: ' .. message, level or vim.log.levels.INFO)
end

local function need_client(bufnr)
  local client = client_mod.get(bufnr)
  if not client then
    notify(
      'no promptd language server is attached to this buffer; open a file of a supported type '
        .. '(python, javascript, typescript, markdown, text, *.prompt) with the plugin set up '
        .. '(see :help promptd or clients/neovim/README.md)',
      vim.log.levels.WARN
    )
  end
  return client
end

-- The LSP range of the cursor, or of lines/columns given by a command range.
local function range_params(client, bufnr, opts)
  local encoding = client.offset_encoding or 'utf-16'
  if opts.range and opts.range > 0 then
    -- A visual selection gives '< and '>; a plain :N,M range gives whole lines.
    local start_pos = vim.api.nvim_buf_get_mark(bufnr, '<')
    local end_pos = vim.api.nvim_buf_get_mark(bufnr, '>')
    if start_pos[1] ~= opts.line1 or end_pos[1] ~= opts.line2 then
      start_pos = { opts.line1, 0 }
      local last = vim.api.nvim_buf_get_lines(bufnr, opts.line2 - 1, opts.line2, true)[1]
      end_pos = { opts.line2, math.max(#last - 1, 0) }
    end
    return vim.lsp.util.make_given_range_params(start_pos, end_pos, bufnr, encoding), true
  end
  return vim.lsp.util.make_range_params(0, encoding), false
end

-- The action to run among the server's answers: "Optimize prompt as <type>" when a type is
-- asked for, else "Optimize prompt", else the first other optimize action.
local function choose(actions, prompt_type)
  local wanted = config.optimize_title
  if prompt_type and prompt_type ~= '' then
    wanted = wanted .. ' as ' .. prompt_type
  end
  local fallback = nil
  for _, action in ipairs(actions or {}) do
    if action.title == wanted then
      return action
    end
    local is_optimize = type(action.title) == 'string' and action.title:find('^Optimize') ~= nil
    if is_optimize and fallback == nil and (prompt_type == nil or prompt_type == '') then
      fallback = action
    end
  end
  return fallback
end

local function run_action(client, bufnr, action)
  if action.edit then
    client_mod.apply_edit(client, action.edit)
  end
  local command = action.command
  if type(command) == 'string' then
    -- A bare Command answered in place of a CodeAction.
    command = action
  end
  if type(command) == 'table' and command.command then
    client_mod.execute(client, command.command, command.arguments, bufnr)
  end
end

-- :PromptdOptimize [type]: optimize the prompt under the cursor or the selected text.
-- opts: { range = 0|1|2, line1, line2, prompt_type }
function M.optimize(opts)
  opts = opts or {}
  local bufnr = vim.api.nvim_get_current_buf()
  local client = need_client(bufnr)
  if not client then
    return
  end
  local params, selected = range_params(client, bufnr, opts)
  params.context = {
    diagnostics = {},
    only = { config.optimize_kind },
    triggerKind = 1,
  }
  local prompt_type = opts.prompt_type
  client_mod.request(client, 'textDocument/codeAction', params, function(err, actions)
    if err then
      notify('code actions failed: ' .. tostring(err.message), vim.log.levels.ERROR)
      return
    end
    local action = choose(actions, prompt_type)
    if action == nil then
      if selected then
        -- Any selection can be optimized, prompt or not: the server's selection command.
        local args = { params.textDocument.uri, params.range }
        if prompt_type and prompt_type ~= '' then
          table.insert(args, prompt_type)
        end
        client_mod.execute(client, config.commands.optimize_selection, args, bufnr)
        return
      end
      notify(
        'no prompt under the cursor: put the cursor in a prompt string, or select the text '
          .. 'to optimize and run :PromptdOptimize again',
        vim.log.levels.WARN
      )
      return
    end
    if not action.edit and not action.command and client_mod.supports_resolve(client) then
      client_mod.request(client, 'codeAction/resolve', action, function(rerr, resolved)
        if rerr then
          notify('optimize failed: ' .. tostring(rerr.message), vim.log.levels.ERROR)
          return
        end
        run_action(client, bufnr, resolved or action)
      end, bufnr)
    else
      run_action(client, bufnr, action)
    end
  end, bufnr)
end

-- Show what a server command answers: text as is, a table pretty-printed.
local function show(result)
  if result == nil or result == vim.NIL then
    return
  end
  if type(result) == 'string' then
    vim.notify(result, vim.log.levels.INFO)
  elseif type(result) == 'table' and type(result.message) == 'string' and result.message ~= '' then
    vim.notify(result.message, vim.log.levels.INFO)
  end
end

local function show_lines(lines)
  vim.notify(table.concat(lines, '\n'), vim.log.levels.INFO)
end

-- :PromptdStatus: the daemon's status, as the server reports it.
function M.status()
  local bufnr = vim.api.nvim_get_current_buf()
  local client = need_client(bufnr)
  if not client then
    return
  end
  local status = require('promptd.status')
  client_mod.execute(client, config.commands.show_status, {}, bufnr, function(result)
    show_lines(status.report(result))
  end)
end

function M.history()
  local bufnr = vim.api.nvim_get_current_buf()
  local client = need_client(bufnr)
  if client then
    client_mod.execute(client, config.commands.show_history, {}, bufnr, function(items)
      show_lines(require('promptd.status').history_report(items))
    end)
  end
end

function M.daemon(action)
  local commands = { start = config.commands.start_daemon, stop = config.commands.stop_daemon }
  local command = commands[action]
  if command == nil then
    notify(
      'unknown daemon action "' .. tostring(action) .. '": use :PromptdDaemon start or stop',
      vim.log.levels.ERROR
    )
    return
  end
  local bufnr = vim.api.nvim_get_current_buf()
  local client = need_client(bufnr)
  if client then
    client_mod.execute(client, command, {}, bufnr, show)
  end
end

M.prompt_types = { 'general', 'creative', 'technical', 'analytical', 'code' }

return M
