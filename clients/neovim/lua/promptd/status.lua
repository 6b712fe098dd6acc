-- What the status line shows: the last `promptd/status` notification (engine, spend today
-- against the budget, breaker state, alert flag) and any work-done progress in flight
-- (an optimization reporting its agent steps).
--
--   vim.o.statusline = '%f %= %{v:lua.require("promptd").statusline()}'
--
-- Both feeds fire `User PromptdStatus` so a statusline plugin can refresh on it.
local M = {}

-- The latest `promptd/status` params, or nil before the first one arrives.
M.last = nil

-- token -> { title, message, percentage } for progress that has begun and not ended.
local progress = {}

local function fire()
  -- Redraw and tell statusline plugins; never from inside a fast event.
  vim.schedule(function()
    pcall(vim.api.nvim_exec_autocmds, 'User', { pattern = 'PromptdStatus', modeline = false })
    pcall(vim.cmd, 'redrawstatus')
  end)
end

function M.on_status(_, params, _, _)
  if type(params) == 'table' then
    M.last = params
    fire()
  end
  return vim.NIL
end

-- Wraps Neovim's own `$/progress` handler: keep our own view, then let the default run.
function M.on_progress(err, result, ctx, config)
  if type(result) == 'table' and type(result.value) == 'table' then
    local token = tostring(result.token)
    local value = result.value
    if value.kind == 'end' then
      progress[token] = nil
    else
      local entry = progress[token] or {}
      entry.title = value.title or entry.title
      entry.message = value.message or entry.message
      entry.percentage = value.percentage or entry.percentage
      progress[token] = entry
    end
    fire()
  end
  local default = vim.lsp.handlers['$/progress']
  if default and default ~= M.on_progress then
    return default(err, result, ctx, config)
  end
end

local function number(value)
  if type(value) == 'number' then
    return value
  end
  return nil
end

-- "$0.12" for a USD amount; nil stays nil.
local function usd(value)
  value = number(value)
  if value == nil then
    return nil
  end
  if value ~= 0 and value < 0.01 then
    return string.format('$%.4f', value)
  end
  return string.format('$%.2f', value)
end

-- The budget alert level when the server does not send one (config [budget] alert_pct).
M.default_alert_pct = 80

-- Why the status is a warning (breaker open, budget past its alert level, the server's own
-- alert flag), or nil when all is well.
function M.alert_reason(status)
  if type(status) ~= 'table' then
    return nil
  end
  if status.connected == false then
    return 'daemon not connected' .. (status.message and (': ' .. status.message) or '')
  end
  if status.circuit == 'open' then
    return "the provider's circuit breaker is open"
  end
  local spent, budget = number(status.spend_today_usd), number(status.daily_budget_usd)
  if spent and budget and budget > 0 then
    local pct = number(status.alert_pct) or M.default_alert_pct
    if spent >= budget then
      return 'daily budget reached'
    end
    if spent >= budget * pct / 100 then
      return string.format('past %d%% of the daily budget', pct)
    end
  end
  if status.alert == true then
    return status.message or 'alert'
  end
  return nil
end

-- The status part alone, from `promptd/status` params (lsp/protocol.py NOTIFY_STATUS:
-- connected, engine, model, circuit, spend_today_usd, daily_budget_usd, message).
function M.format(status)
  if type(status) ~= 'table' then
    return 'promptd'
  end
  if status.connected == false then
    return '! promptd disconnected'
  end
  local parts = { 'promptd ' .. tostring(status.engine or '?') }
  local spent = usd(status.spend_today_usd)
  local budget = number(status.daily_budget_usd)
  if spent and budget and budget > 0 then
    table.insert(parts, spent .. '/' .. usd(budget))
  elseif spent then
    table.insert(parts, spent)
  end
  local circuit = status.circuit
  if type(circuit) == 'string' and circuit ~= '' and circuit ~= 'closed' then
    table.insert(parts, 'breaker ' .. circuit)
  end
  local text = table.concat(parts, ' ')
  if M.alert_reason(status) then
    text = '! ' .. text
  end
  return text
end

local function field(tbl, key)
  if type(tbl) ~= 'table' then
    return nil
  end
  local value = tbl[key]
  if value == vim.NIL then
    return nil
  end
  return value
end

local function budget_text(spent, budget)
  local text = usd(spent) or '?'
  if number(budget) then
    text = text .. ' of ' .. usd(budget)
  end
  return text
end

-- The lines :PromptdStatus shows for the daemon's status (the `status --json` document the
-- server's promptd.showStatus command answers), or for the server's `promptd/status` answer
-- when the daemon cannot be reached.
function M.report(result)
  if type(result) ~= 'table' then
    return { 'promptd: no status' }
  end
  if result.connected == false then
    return { 'promptd: daemon not connected: ' .. tostring(field(result, 'message') or '?') }
  end
  if result.running == nil then
    return { M.format(result) }
  end
  local lines = {}
  local head = ('promptd %s: %s'):format(
    tostring(field(result, 'version') or '?'),
    result.running and 'running' or 'not running'
  )
  if field(result, 'pid') then
    head = head .. ' (pid ' .. tostring(result.pid) .. ')'
  end
  table.insert(lines, head)
  local provider = field(result, 'provider') or {}
  local model = field(provider, 'model')
  table.insert(
    lines,
    ('engine %s, provider %s%s, breaker %s'):format(
      tostring(field(result, 'engine') or '?'),
      tostring(field(provider, 'name') or '?'),
      (model and model ~= '') and (' (' .. model .. ')') or '',
      tostring(field(provider, 'circuit') or '?')
    )
  )
  local spend = field(result, 'spend')
  if spend then
    table.insert(
      lines,
      ('spend today %s, this month %s, 30-day forecast %s'):format(
        budget_text(field(spend, 'today_usd'), field(spend, 'daily_budget_usd')),
        budget_text(field(spend, 'month_usd'), field(spend, 'monthly_budget_usd')),
        usd(field(spend, 'forecast_30d_usd')) or '?'
      )
    )
  end
  local cache = field(result, 'cache')
  if cache then
    table.insert(
      lines,
      ('cache %d entries, hit rate %d%%'):format(
        number(field(cache, 'entries')) or 0,
        math.floor((number(field(cache, 'hit_rate')) or 0) * 100 + 0.5)
      )
    )
  end
  local backups = field(result, 'backups')
  if backups then
    table.insert(
      lines,
      ('backups %d, last %s, next %s'):format(
        number(field(backups, 'count')) or 0,
        tostring(field(backups, 'last_at') or 'never'),
        tostring(field(backups, 'next_at') or '-')
      )
    )
  end
  local inbox = field(result, 'inbox')
  if inbox then
    table.insert(
      lines,
      ('inbox %s (%d pending)'):format(
        tostring(field(inbox, 'path') or '?'),
        number(field(inbox, 'pending')) or 0
      )
    )
  end
  local home = field(result, 'home')
  if home then
    table.insert(lines, 'home ' .. tostring(home))
  end
  return lines
end

-- The lines :PromptdHistory shows for the server's promptd.showHistory answer.
function M.history_report(items)
  if type(items) ~= 'table' or #items == 0 then
    return { 'promptd: no optimizations yet' }
  end
  local lines = {}
  for _, item in ipairs(items) do
    table.insert(
      lines,
      ('%s  %s  %s -> %s  %s%s  %s'):format(
        tostring(field(item, 'id') or ''):sub(1, 8),
        tostring(field(item, 'at') or ''),
        tostring(field(item, 'score_before') or '?'),
        tostring(field(item, 'score_after') or '?'),
        usd(field(item, 'cost_usd')) or '',
        field(item, 'cached') and ' cached' or '',
        tostring(field(item, 'preview') or '')
      )
    )
  end
  return lines
end

-- The progress part: "Optimizing prompt: designer 60%", or nil when nothing runs.
function M.progress_text()
  for _, entry in pairs(progress) do
    local text = entry.title or 'working'
    if entry.message and entry.message ~= '' then
      text = text .. ': ' .. entry.message
    end
    if entry.percentage then
      text = text .. string.format(' %d%%', entry.percentage)
    end
    return text
  end
  return nil
end

-- The whole status line item: empty when no promptd client is attached to the buffer.
function M.statusline(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if not require('promptd.client').attached(bufnr) then
    return ''
  end
  local text = M.format(M.last)
  local running = M.progress_text()
  if running then
    text = text .. ' | ' .. running
  end
  return text
end

-- True when the last status is a warning (see alert_reason), for a highlight in the status line.
function M.alerting()
  return M.alert_reason(M.last) ~= nil
end

return M
