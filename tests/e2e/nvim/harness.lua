-- What every headless promptd scenario shares: the report it writes, waits with a deadline,
-- loading the plugin from clients/neovim, starting the server the way the test asks, and
-- exiting with a status. Loaded with dofile() by the scenario scripts next to it.
-- Environment: PROMPTD_E2E_PLUGIN, PROMPTD_E2E_START (enable|setup), PROMPTD_E2E_TIMEOUT_MS,
-- PROMPTD_E2E_REPORT (see tests/e2e/neovim_harness.py).
local env = vim.env
local H = {}

H.report = { steps = {}, notifications = {}, ok = false }
H.timeout = tonumber(env.PROMPTD_E2E_TIMEOUT_MS or '30000')

function H.step(name)
  table.insert(H.report.steps, name)
end

function H.fail(message)
  H.report.error = message
  error(message, 0)
end

function H.wait_for(what, condition)
  if not vim.wait(H.timeout, condition, 50) then
    H.fail('timed out after ' .. H.timeout .. ' ms waiting for ' .. what)
  end
end

function H.buffer_text()
  return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, true), '\n')
end

function H.client()
  for _, client in pairs(require('promptd').clients(0)) do
    return client
  end
  return nil
end

-- The first notification whose text matches `pattern` (a Lua pattern), or nil.
function H.notified(pattern)
  for _, note in ipairs(H.report.notifications) do
    if note.message:find(pattern) then
      return note.message
    end
  end
  return nil
end

-- Record what the plugin and Neovim tell the user; put the plugin on the runtimepath.
function H.load_plugin()
  vim.notify = function(message, level)
    table.insert(H.report.notifications, { message = tostring(message), level = level })
  end
  vim.opt.runtimepath:prepend(env.PROMPTD_E2E_PLUGIN)
  vim.cmd('filetype on')
  vim.cmd('runtime! plugin/promptd.lua')
  H.report.nvim = tostring(vim.version().major) .. '.' .. tostring(vim.version().minor)
  H.report.lsp_log = vim.lsp.get_log_path()
  vim.lsp.set_log_level('debug')
end

-- Start promptd as the test asks: vim.lsp.enable (0.11+) or setup() with `opts`
-- ({ path = ..., settings = { <the promptd section> } }).
function H.start(opts)
  if env.PROMPTD_E2E_START == 'enable' then
    -- What a 0.11 user writes: vim.lsp.config overrides, then vim.lsp.enable.
    if opts and opts.path then
      vim.lsp.config('promptd', { cmd = { opts.path, 'lsp' } })
    end
    if opts and opts.settings then
      vim.lsp.config('promptd', { settings = { promptd = opts.settings } })
    end
    vim.lsp.enable('promptd')
  else
    require('promptd').setup(opts or {})
  end
  H.step('started')
end

local function finish(code)
  if env.PROMPTD_E2E_REPORT then
    local file = io.open(env.PROMPTD_E2E_REPORT, 'w')
    if file then
      file:write(vim.fn.json_encode(H.report))
      file:close()
    end
  end
  if code == 0 then
    vim.cmd('qall!')
  else
    vim.cmd('cquit ' .. code)
  end
end

-- Run the scenario; exit 0 when it returns, 1 with the error in the report when it throws.
function H.run(scenario)
  local ok, err = pcall(scenario)
  if ok then
    H.report.ok = true
    finish(0)
  else
    H.report.error = H.report.error or tostring(err)
    io.stderr:write('promptd e2e: ' .. tostring(H.report.error) .. '\n')
    finish(1)
  end
end

return H
