-- :checkhealth promptd in a real Neovim: the report's text goes to PROMPTD_E2E_REPORT.
local env = vim.env
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/harness.lua')

H.run(function()
  H.load_plugin()
  if env.PROMPTD_E2E_PATH and env.PROMPTD_E2E_PATH ~= '' then
    require('promptd').setup({ path = env.PROMPTD_E2E_PATH })
  end
  vim.cmd('checkhealth promptd')
  H.report.health = H.buffer_text()
end)
