-- The few client calls whose spelling changed between Neovim 0.7 and 0.11, in one place:
-- finding promptd's client for a buffer, sending it a request, reading its capabilities.
local config = require('promptd.config')

local M = {}

local has_011 = vim.fn.has('nvim-0.11') == 1

-- Every running promptd client, optionally only those attached to `bufnr`.
function M.clients(bufnr)
  local found = {}
  if vim.lsp.get_clients then
    found = vim.lsp.get_clients({ name = config.name, bufnr = bufnr })
  else
    local all = bufnr and vim.lsp.buf_get_clients(bufnr) or vim.lsp.get_active_clients()
    for _, client in pairs(all) do
      if client.name == config.name then
        table.insert(found, client)
      end
    end
  end
  return found
end

-- promptd's client for `bufnr` (the current buffer by default), or nil.
function M.get(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  return M.clients(bufnr)[1]
end

function M.attached(bufnr)
  return M.get(bufnr) ~= nil
end

-- client:request on 0.11+, client.request before.
function M.request(client, method, params, handler, bufnr)
  if has_011 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

function M.supports_resolve(client)
  local caps = client.server_capabilities or {}
  local provider = caps.codeActionProvider
  return type(provider) == 'table' and provider.resolveProvider == true
end

-- Run a server command (workspace/executeCommand); `on_result(result)` gets its answer.
function M.execute(client, command, arguments, bufnr, on_result)
  local params = { command = command, arguments = arguments }
  return M.request(client, 'workspace/executeCommand', params, function(err, result)
    if err then
      vim.notify('promptd: ' .. command .. ' failed: ' .. tostring(err.message), vim.log.levels.ERROR)
      return
    end
    if on_result then
      on_result(result)
    end
  end, bufnr)
end

function M.apply_edit(client, edit)
  vim.lsp.util.apply_workspace_edit(edit, client.offset_encoding or 'utf-16')
end

return M
