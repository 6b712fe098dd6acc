-- The plugin's other user-facing parts in a real, headless Neovim:
--   PROMPTD_E2E_SCENARIO=status   the status line fills from promptd/status, :PromptdStatus
--                                  shows the daemon's status, :PromptdHistory its history;
--   PROMPTD_E2E_SCENARIO=missing  with PROMPTD_E2E_PATH pointing nowhere, the user is told
--                                  that promptd cannot start and how to install it;
--   PROMPTD_E2E_SCENARIO=settings the user's settings reach the server: with
--                                  diagnostics.severity = 'error' every diagnostic is an error.
-- PROMPTD_E2E_FILE is the file to open.
local env = vim.env
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/harness.lua')
local report = H.report

local function status_scenario()
  H.start()
  vim.cmd('edit ' .. vim.fn.fnameescape(env.PROMPTD_E2E_FILE))
  H.wait_for('the promptd client to attach', function()
    return H.client() ~= nil
  end)
  H.step('attached')
  H.wait_for('the status line to show the engine', function()
    return require('promptd').statusline():find('^promptd offline') ~= nil
  end)
  report.statusline = require('promptd').statusline()
  H.step('statusline')

  vim.cmd('PromptdStatus')
  H.wait_for(':PromptdStatus output', function()
    return H.notified('^promptd [^\n]*: running') ~= nil
  end)
  report.status = H.notified('^promptd [^\n]*: running')
  H.step('status')

  vim.cmd('PromptdHistory')
  H.wait_for(':PromptdHistory output', function()
    return H.notified('no optimizations yet') ~= nil or H.notified('%->') ~= nil
  end)
  report.history = H.notified('no optimizations yet') or H.notified('%->')
  H.step('history')
end

local function missing_scenario()
  H.start({ path = env.PROMPTD_E2E_PATH })
  vim.cmd('edit ' .. vim.fn.fnameescape(env.PROMPTD_E2E_FILE))
  H.wait_for('an error saying promptd cannot start', function()
    return H.notified('is not executable') ~= nil
  end)
  report.message = H.notified('is not executable')
  report.attached = H.client() ~= nil
  H.step('told')
end

local function settings_scenario()
  H.start({ settings = { diagnostics = { severity = 'error' } } })
  vim.cmd('edit ' .. vim.fn.fnameescape(env.PROMPTD_E2E_FILE))
  H.wait_for('promptd diagnostics', function()
    return #vim.diagnostic.get(0) > 0
  end)
  report.severities = {}
  for _, d in ipairs(vim.diagnostic.get(0)) do
    table.insert(report.severities, d.severity)
  end
  H.step('diagnostics')
end

H.run(function()
  H.load_plugin()
  if env.PROMPTD_E2E_SCENARIO == 'missing' then
    missing_scenario()
  elseif env.PROMPTD_E2E_SCENARIO == 'settings' then
    settings_scenario()
  else
    status_scenario()
  end
end)
