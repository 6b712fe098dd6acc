-- The plugin's pure parts, checked inside a real Neovim (0.7 and 0.11): status line text,
-- progress tracking, the :PromptdStatus / :PromptdHistory reports, language ids, root
-- detection, filetype detection, the 0.11 lsp/promptd.lua config, and what a user is told
-- when no server is attached. PROMPTD_E2E_ROOT is a scratch folder for the root test.
local env = vim.env
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/harness.lua')
local report = H.report
report.failures = {}

local function check(name, got, want)
  if not vim.deep_equal(got, want) then
    table.insert(report.failures, ('%s: got %s, want %s'):format(name, vim.inspect(got), vim.inspect(want)))
  end
end

H.run(function()
  H.load_plugin()
  local status = require('promptd.status')
  local config = require('promptd.config')

  -- promptd/status -> status line text
  check('format plain', status.format({ connected = true, engine = 'llm', circuit = 'closed',
    spend_today_usd = 0.42, daily_budget_usd = 5 }), 'promptd llm $0.42/$5.00')
  check('format no budget', status.format({ engine = 'offline', spend_today_usd = 0,
    daily_budget_usd = vim.NIL }), 'promptd offline $0.00')
  check('format breaker open', status.format({ engine = 'llm', circuit = 'open',
    spend_today_usd = 0.001 }), '! promptd llm $0.0010 breaker open')
  check('format past alert', status.format({ engine = 'llm', spend_today_usd = 0.8,
    daily_budget_usd = 1 }), '! promptd llm $0.80/$1.00')
  check('format below alert', status.format({ engine = 'llm', spend_today_usd = 0.79,
    daily_budget_usd = 1 }), 'promptd llm $0.79/$1.00')
  check('format disconnected', status.format({ connected = false, message = 'refused' }),
    '! promptd disconnected')
  check('format nothing yet', status.format(nil), 'promptd')

  -- the notification handler keeps the last status
  status.on_status(nil, { engine = 'offline', spend_today_usd = 0, circuit = 'open' }, {}, {})
  check('alerting', status.alerting(), true)

  -- $/progress: begin / report / end
  local ctx = { client_id = 0, method = '$/progress' }
  status.on_progress(nil, { token = 't1', value = { kind = 'begin', title = 'promptd: optimizing prompt' } }, ctx, {})
  status.on_progress(nil, { token = 't1', value = { kind = 'report', message = 'designer', percentage = 60 } }, ctx, {})
  check('progress running', status.progress_text(), 'promptd: optimizing prompt: designer 60%')
  status.on_progress(nil, { token = 't1', value = { kind = 'end', message = 'score 65 → 78' } }, ctx, {})
  check('progress ended', status.progress_text(), nil)

  -- :PromptdStatus report
  local lines = status.report({
    running = true, pid = 42, version = '0.1.0', home = '/h', engine = 'llm',
    provider = { name = 'xai', model = 'grok-4.3', circuit = 'closed' },
    spend = { today_usd = 0.42, month_usd = 3.1, daily_budget_usd = 5, monthly_budget_usd = vim.NIL,
      forecast_30d_usd = 9.3 },
    cache = { entries = 12, hit_rate = 0.25 },
    backups = { count = 2, last_at = '2026-11-27T03:00:00Z', next_at = vim.NIL },
    inbox = { path = '/h/inbox', pending = 1, batches = {} },
  })
  check('status report', lines, {
    'promptd 0.1.0: running (pid 42)',
    'engine llm, provider xai (grok-4.3), breaker closed',
    'spend today $0.42 of $5.00, this month $3.10, 30-day forecast $9.30',
    'cache 12 entries, hit rate 25%',
    'backups 2, last 2026-11-27T03:00:00Z, next -',
    'inbox /h/inbox (1 pending)',
    'home /h',
  })
  check('status report disconnected', status.report({ connected = false, message = 'refused' }),
    { 'promptd: daemon not connected: refused' })
  check('history report', status.history_report({ { id = '6b095a6a1234', at = '2026-11-27T10:24:42Z',
    score_before = 65, score_after = 78, cost_usd = 0, cached = true, preview = 'write about dogs' } }),
    { '6b095a6a  2026-11-27T10:24:42Z  65 -> 78  $0.00 cached  write about dogs' })
  check('history empty', status.history_report({}), { 'promptd: no optimizations yet' })

  -- language ids the server expects
  check('language id text', config.language_id(0, 'text'), 'plaintext')
  check('language id python', config.language_id(0, 'python'), 'python')

  -- root detection: the nearest marker, else the file's folder
  local root = env.PROMPTD_E2E_ROOT
  vim.fn.mkdir(root .. '/repo/.git', 'p')
  vim.fn.mkdir(root .. '/repo/src/deep', 'p')
  vim.fn.mkdir(root .. '/loose', 'p')
  vim.cmd('edit ' .. root .. '/repo/src/deep/app.py')
  check('root by marker', require('promptd').find_root(0, config.root_markers), root .. '/repo')
  vim.cmd('edit ' .. root .. '/loose/x.py')
  check('root fallback', require('promptd').find_root(0, { 'no-such-marker' }), root .. '/loose')

  -- *.prompt and *.prompty are prompts
  vim.cmd('edit ' .. root .. '/a.prompty')
  check('filetype prompty', vim.bo.filetype, 'prompt')
  vim.cmd('edit ' .. root .. '/a.prompt')
  check('filetype prompt', vim.bo.filetype, 'prompt')

  -- 0.11: lsp/promptd.lua is found on the runtimepath
  if vim.fn.has('nvim-0.11') == 1 then
    local cfg = vim.lsp.config.promptd
    check('lsp config cmd', cfg and cfg.cmd, { 'promptd', 'lsp' })
    check('lsp config filetypes', cfg and cfg.filetypes, config.filetypes)
    check('lsp config settings', cfg and cfg.settings, { promptd = {} })
  end

  -- no server attached: the user is told what to do
  vim.cmd('PromptdOptimize')
  check('no client message', H.notified('no promptd language server is attached') ~= nil, true)
  check('statusline without client', require('promptd').statusline(), '')

  if #report.failures > 0 then
    H.fail(table.concat(report.failures, '\n'))
  end
end)
