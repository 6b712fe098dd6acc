-- Drives a real, headless Neovim (0.7 or 0.11) through one "Optimize prompt" round trip with
-- the promptd plugin from clients/neovim, the way a user would:
--   open the file -> wait for promptd's diagnostics -> put the cursor in the prompt ->
--   run the action -> wait for the buffer to change -> :write -> quit.
-- Run as:  nvim --headless -u NONE -i NONE -c 'luafile tests/e2e/nvim/optimize.lua'
-- Configured by environment variables (see tests/e2e/neovim_harness.py):
--   PROMPTD_E2E_PLUGIN   the plugin folder (clients/neovim)
--   PROMPTD_E2E_FILE     the file to open
--   PROMPTD_E2E_START    "enable" (vim.lsp.enable, 0.11+) or "setup" (require('promptd').setup)
--   PROMPTD_E2E_ACTION   "code_action" (vim.lsp.buf.code_action, choosing "Optimize prompt")
--                        or "command" (:PromptdOptimize)
--   PROMPTD_E2E_LINE, PROMPTD_E2E_COL   cursor position inside the prompt (1-based, 0-based)
--   PROMPTD_E2E_TIMEOUT_MS   the deadline of each wait
--   PROMPTD_E2E_REPORT   where to write a JSON report of what happened
-- Exits 0 when the file was optimized and written, non-zero otherwise.

local env = vim.env
local report = { steps = {}, notifications = {}, titles = {}, ok = false }
local timeout = tonumber(env.PROMPTD_E2E_TIMEOUT_MS or '30000')

local function step(name)
  table.insert(report.steps, name)
end

local function finish(code)
  if env.PROMPTD_E2E_REPORT then
    local file = io.open(env.PROMPTD_E2E_REPORT, 'w')
    if file then
      file:write(vim.fn.json_encode(report))
      file:close()
    end
  end
  if code == 0 then
    vim.cmd('qall!')
  else
    vim.cmd('cquit ' .. code)
  end
end

local function fail(message)
  report.error = message
  error(message, 0)
end

local function wait_for(what, condition)
  if not vim.wait(timeout, condition, 50) then
    fail('timed out after ' .. timeout .. ' ms waiting for ' .. what)
  end
end

local function buffer_text()
  return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, true), '\n')
end

local function promptd_client()
  for _, client in pairs(require('promptd').clients(0)) do
    return client
  end
  return nil
end

local function title_of(item)
  -- 0.11 passes { action = ..., ctx = ... }; 0.7 passes { client_id, action }.
  local action = item.action or item[2] or item
  return action.title
end

local function run()
  -- Record what the plugin and Neovim tell the user.
  vim.notify = function(message, level)
    table.insert(report.notifications, { message = tostring(message), level = level })
  end

  vim.opt.runtimepath:prepend(env.PROMPTD_E2E_PLUGIN)
  vim.cmd('filetype on')
  vim.cmd('runtime! plugin/promptd.lua')
  report.nvim = tostring(vim.version().major) .. '.' .. tostring(vim.version().minor)
  report.lsp_log = vim.lsp.get_log_path()
  vim.lsp.set_log_level('debug')

  if env.PROMPTD_E2E_START == 'enable' then
    vim.lsp.enable('promptd')
  else
    require('promptd').setup({})
  end
  step('started')

  vim.cmd('edit ' .. vim.fn.fnameescape(env.PROMPTD_E2E_FILE))
  report.filetype = vim.bo.filetype
  local before = buffer_text()

  wait_for('the promptd client to attach', function()
    return promptd_client() ~= nil
  end)
  step('attached')

  wait_for('promptd diagnostics', function()
    return #vim.diagnostic.get(0) > 0
  end)
  report.diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(0)) do
    table.insert(report.diagnostics, { lnum = d.lnum, message = d.message, code = d.code })
  end
  step('diagnostics')

  vim.api.nvim_win_set_cursor(0, { tonumber(env.PROMPTD_E2E_LINE), tonumber(env.PROMPTD_E2E_COL) })

  if env.PROMPTD_E2E_ACTION == 'command' then
    vim.cmd('PromptdOptimize')
  else
    -- Neovim asks the user to pick an action; pick "Optimize prompt" as a user would.
    vim.ui.select = function(items, _, on_choice)
      for _, item in ipairs(items) do
        table.insert(report.titles, title_of(item))
      end
      for i, item in ipairs(items) do
        if title_of(item) == 'Optimize prompt' then
          return on_choice(item, i)
        end
      end
      report.error = 'no "Optimize prompt" among the code actions'
      return on_choice(nil, nil)
    end
    vim.lsp.buf.code_action()
  end
  step('action')

  wait_for('the optimized prompt in the buffer', function()
    return report.error ~= nil or buffer_text() ~= before
  end)
  if report.error then
    fail(report.error)
  end
  step('edited')

  vim.cmd('write')
  step('written')
  report.text = buffer_text()
  report.ok = true
end

local ok, err = pcall(run)
if not ok then
  report.error = report.error or tostring(err)
  io.stderr:write('promptd e2e: ' .. tostring(report.error) .. '\n')
  finish(1)
else
  finish(0)
end
