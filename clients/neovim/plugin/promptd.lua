-- promptd's user commands (Neovim 0.7+). The language server itself starts through
-- vim.lsp.enable('promptd') on 0.11+ or require('promptd').setup() on 0.7-0.10.
if vim.g.loaded_promptd then
  return
end
vim.g.loaded_promptd = true

local function complete_types(arg_lead)
  local matches = {}
  for _, name in ipairs(require('promptd.commands').prompt_types) do
    if name:find('^' .. vim.pesc(arg_lead)) then
      table.insert(matches, name)
    end
  end
  return matches
end

vim.api.nvim_create_user_command('PromptdOptimize', function(args)
  require('promptd').optimize({
    range = args.range,
    line1 = args.line1,
    line2 = args.line2,
    prompt_type = args.args ~= '' and args.args or nil,
  })
end, {
  nargs = '?',
  range = true,
  complete = complete_types,
  desc = 'promptd: optimize the prompt under the cursor (or the selection) [as TYPE]',
})

vim.api.nvim_create_user_command('PromptdStatus', function()
  require('promptd').status()
end, { desc = 'promptd: show the daemon status (engine, spend, breaker)' })

vim.api.nvim_create_user_command('PromptdHistory', function()
  require('promptd').history()
end, { desc = 'promptd: show recent optimizations' })

vim.api.nvim_create_user_command('PromptdDaemon', function(args)
  require('promptd').daemon(args.args)
end, {
  nargs = 1,
  complete = function()
    return { 'start', 'stop' }
  end,
  desc = 'promptd: start or stop the daemon',
})

require('promptd.library').register()

vim.api.nvim_create_user_command('PromptdInsert', function(args)
  require('promptd.library').insert({ range = args.range, text = args.args })
end, {
  nargs = '?',
  range = true,
  desc = 'promptd: insert a past optimized prompt at the cursor (or over the selection)',
})

vim.api.nvim_create_user_command('PromptdDashboard', function()
  require('promptd.dashboard').open()
end, { desc = 'promptd: open the web dashboard in the browser' })

-- 0.11+: when vim.lsp.enable('promptd') is on but `promptd` cannot run, say so once, clearly
-- (Neovim itself only writes it to the LSP log).
if vim.fn.has('nvim-0.11') == 1 then
  vim.api.nvim_create_autocmd('FileType', {
    group = vim.api.nvim_create_augroup('promptd_check', { clear = true }),
    pattern = require('promptd.config').filetypes,
    callback = function()
      if vim.lsp.is_enabled and vim.lsp.is_enabled('promptd') then
        local cfg = vim.lsp.config.promptd
        require('promptd').check_executable(cfg and cfg.cmd)
      end
    end,
    desc = 'promptd: check the language server can start',
  })
end
