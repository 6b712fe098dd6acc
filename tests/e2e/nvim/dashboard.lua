-- :PromptdDashboard in a real Neovim: it runs the real `promptd dashboard --json` (the
-- daemon starts if needed) and hands the URL to the opener (vim.g.promptd_dashboard_open,
-- which records it here instead of starting a browser). PROMPTD_E2E_EXPECT: "url" (the
-- dashboard is on) or "off" (config.toml turns it off: the user is told why).
local env = vim.env
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/harness.lua')

H.run(function()
  H.load_plugin()
  local opened = nil
  vim.g.promptd_dashboard_open = function(url)
    opened = url
  end
  vim.cmd('PromptdDashboard')
  if env.PROMPTD_E2E_EXPECT == 'off' then
    H.wait_for('the error', function()
      return H.notified('no dashboard') ~= nil
    end)
  else
    H.wait_for('the dashboard URL', function()
      return opened ~= nil
    end)
    H.report.url = opened
  end
  H.report.url_from_ok = require('promptd.dashboard').url_from('{"url": "http://127.0.0.1:9/?token=x"}')
  H.report.url_from_bad = require('promptd.dashboard').url_from('{"url": "https://example.com/"}') or 'nil'
end)
