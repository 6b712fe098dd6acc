-- "Optimize prompt with instruction…" in a real, headless Neovim (0.7 or 0.11): open the file,
-- pick the action in vim.ui.select, answer vim.ui.input (the editor's UI hook, stubbed here
-- the way a user would type) and wait for the result.
-- Besides harness.lua's variables:
--   PROMPTD_E2E_FILE          the file to open
--   PROMPTD_E2E_LINE, PROMPTD_E2E_COL   cursor position inside the prompt
--   PROMPTD_E2E_INSTRUCTION   the text typed, or "<cancel>" (vim.ui.input answers nil)
--   PROMPTD_E2E_EXPECT        "edit": wait for the buffer to change; "error": wait for the
--                             plugin's error notification; "nothing": the input was cancelled
local env = vim.env
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/harness.lua')
local report = H.report
report.titles = {}
report.executed = {}
report.asked = 0

local TITLE = 'Optimize prompt with instruction…'

local function title_of(item)
  local action = item.action or item[2] or item
  return action.title
end

H.run(function()
  H.load_plugin()
  H.start()
  vim.cmd('edit ' .. vim.fn.fnameescape(env.PROMPTD_E2E_FILE))
  local before = H.buffer_text()
  H.wait_for('the promptd client to attach', function()
    return H.client() ~= nil
  end)
  H.step('attached')

  -- Every server command the plugin runs, with its arguments.
  local client_mod = require('promptd.client')
  local execute = client_mod.execute
  client_mod.execute = function(client, command, arguments, bufnr, on_result)
    table.insert(report.executed, { command = command, arguments = arguments })
    return execute(client, command, arguments, bufnr, on_result)
  end

  vim.ui.input = function(opts, on_confirm)
    report.asked = report.asked + 1
    report.input_prompt = opts.prompt
    if env.PROMPTD_E2E_INSTRUCTION == '<cancel>' then
      return on_confirm(nil)
    end
    return on_confirm(env.PROMPTD_E2E_INSTRUCTION)
  end
  vim.ui.select = function(items, _, on_choice)
    for _, item in ipairs(items) do
      table.insert(report.titles, title_of(item))
    end
    for i, item in ipairs(items) do
      if title_of(item) == TITLE then
        return on_choice(item, i)
      end
    end
    report.error = 'no "' .. TITLE .. '" among the code actions'
    return on_choice(nil, nil)
  end

  vim.api.nvim_win_set_cursor(0, { tonumber(env.PROMPTD_E2E_LINE), tonumber(env.PROMPTD_E2E_COL) })
  vim.lsp.buf.code_action()
  H.step('action')

  H.wait_for('the instruction to be asked for', function()
    return report.error ~= nil or report.asked > 0
  end)
  if report.error then
    H.fail(report.error)
  end
  if env.PROMPTD_E2E_EXPECT == 'edit' then
    H.wait_for('the optimized prompt in the buffer', function()
      return H.buffer_text() ~= before
    end)
    vim.cmd('write')
  elseif env.PROMPTD_E2E_EXPECT == 'error' then
    H.wait_for('the error notification', function()
      return H.notified('promptd.optimize failed') ~= nil
    end)
  end
  report.text = H.buffer_text()
  H.step('done')
end)
