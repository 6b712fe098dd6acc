-- One "Optimize prompt" round trip in a real, headless Neovim (0.7 or 0.11), as a user does it:
--   open the file -> wait for promptd's diagnostics -> put the cursor in the prompt ->
--   run the action -> wait for the buffer to change -> :write -> quit.
-- Run as:  nvim --headless -u NONE -i NONE -c 'luafile tests/e2e/nvim/optimize.lua'
-- Besides harness.lua's variables:
--   PROMPTD_E2E_FILE     the file to open
--   PROMPTD_E2E_ACTION   "code_action" (vim.lsp.buf.code_action, choosing "Optimize prompt"),
--                        "command" (:PromptdOptimize) or "select_line" (:'<,'>PromptdOptimize
--                        over the cursor's whole line)
--   PROMPTD_E2E_LINE, PROMPTD_E2E_COL   cursor position inside the prompt (1-based, 0-based)
--   PROMPTD_E2E_DIAGNOSTICS   "none": do not wait for diagnostics (text that is no prompt)
local env = vim.env
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/harness.lua')
local report = H.report
report.titles = {}

local function title_of(item)
  -- 0.11 passes { action = ..., ctx = ... }; 0.7 passes { client_id, action }.
  local action = item.action or item[2] or item
  return action.title
end

H.run(function()
  H.load_plugin()
  H.start()

  vim.cmd('edit ' .. vim.fn.fnameescape(env.PROMPTD_E2E_FILE))
  report.filetype = vim.bo.filetype
  local before = H.buffer_text()

  H.wait_for('the promptd client to attach', function()
    return H.client() ~= nil
  end)
  H.step('attached')

  if env.PROMPTD_E2E_DIAGNOSTICS ~= 'none' then
    H.wait_for('promptd diagnostics', function()
      return #vim.diagnostic.get(0) > 0
    end)
  end
  report.diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(0)) do
    table.insert(report.diagnostics, { lnum = d.lnum, message = d.message, code = d.code })
  end
  H.step('diagnostics')

  vim.api.nvim_win_set_cursor(0, { tonumber(env.PROMPTD_E2E_LINE), tonumber(env.PROMPTD_E2E_COL) })

  if env.PROMPTD_E2E_ACTION == 'command' then
    vim.cmd('PromptdOptimize')
  elseif env.PROMPTD_E2E_ACTION == 'select_line' then
    -- As after `V` on the cursor's line then `:'<,'>PromptdOptimize`.
    local line = tonumber(env.PROMPTD_E2E_LINE)
    local text = vim.api.nvim_buf_get_lines(0, line - 1, line, true)[1]
    vim.api.nvim_buf_set_mark(0, '<', line, 0, {})
    vim.api.nvim_buf_set_mark(0, '>', line, math.max(#text - 1, 0), {})
    vim.cmd(line .. ',' .. line .. 'PromptdOptimize')
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
  H.step('action')

  H.wait_for('the optimized prompt in the buffer', function()
    return report.error ~= nil or H.buffer_text() ~= before
  end)
  if report.error then
    H.fail(report.error)
  end
  H.step('edited')

  vim.cmd('write')
  H.step('written')
  report.text = H.buffer_text()
end)
