-- "Optimize prompt with instruction…": the server's code action carries the client-side
-- command promptd.optimizeWithInstruction with { uri, range, prompt_type }. This handler
-- (in vim.lsp.commands) asks for the instruction with vim.ui.input, then runs the server's
-- promptd.optimize with { uri, range, prompt_type, { instruct = TEXT } }; the server applies
-- the edit with workspace/applyEdit. A cancelled or empty input runs nothing.
local config = require('promptd.config')
local client_mod = require('promptd.client')

local M = {}

M.prompt = 'promptd instruction (e.g. more formal, under 100 words): '

function M.run(command, ctx)
  local args = command.arguments or {}
  local uri, range, prompt_type = args[1], args[2], args[3] or 'auto'
  if type(uri) ~= 'string' or type(range) ~= 'table' then
    vim.notify('promptd: ' .. command.command .. ' needs arguments [uri, range]', vim.log.levels.ERROR)
    return
  end
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if client == nil then
    vim.notify('promptd: the language server is not running', vim.log.levels.WARN)
    return
  end
  vim.ui.input({ prompt = M.prompt }, function(text)
    local instruct = text and vim.trim(text) or ''
    if instruct == '' then
      return -- cancelled: nothing runs
    end
    local sent = { uri, range, prompt_type, { instruct = instruct } }
    client_mod.execute(client, config.commands.optimize, sent, ctx.bufnr)
  end)
end

-- Put the handler in vim.lsp.commands (once; a user's own handler is kept).
function M.register()
  local name = config.client_commands.optimize_with_instruction
  if vim.lsp.commands[name] == nil then
    vim.lsp.commands[name] = M.run
  end
end

return M
