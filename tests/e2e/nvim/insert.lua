-- :PromptdInsert in a real, headless Neovim (0.7 or 0.11), as a user does it:
--   open the file -> put the cursor on a line -> :PromptdInsert -> type the search text
--   (vim.ui.input) -> pick the first past prompt (vim.ui.select) -> wait for the buffer to
--   change -> :write -> quit.
-- Besides harness.lua's variables:
--   PROMPTD_E2E_FILE     the file to open
--   PROMPTD_E2E_QUERY    the search text typed
--   PROMPTD_E2E_LINE, PROMPTD_E2E_COL   the cursor (1-based line, 0-based column)
local env = vim.env
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/harness.lua')
local report = H.report
report.labels = {}

H.run(function()
  H.load_plugin()
  H.start()

  vim.cmd('edit ' .. vim.fn.fnameescape(env.PROMPTD_E2E_FILE))
  local before = H.buffer_text()
  H.wait_for('the promptd client to attach', function()
    return H.client() ~= nil
  end)
  H.step('attached')

  vim.api.nvim_win_set_cursor(0, { tonumber(env.PROMPTD_E2E_LINE), tonumber(env.PROMPTD_E2E_COL) })
  vim.ui.input = function(opts, on_confirm)
    report.input_prompt = opts.prompt
    on_confirm(env.PROMPTD_E2E_QUERY)
  end
  vim.ui.select = function(items, opts, on_choice)
    for _, item in ipairs(items) do
      table.insert(report.labels, opts.format_item(item))
    end
    on_choice(items[1], 1)
  end
  vim.cmd('PromptdInsert')
  H.step('command')

  H.wait_for('the past prompt in the buffer', function()
    return H.buffer_text() ~= before
  end)
  H.step('inserted')
  vim.cmd('write')
  report.text = H.buffer_text()
end)
