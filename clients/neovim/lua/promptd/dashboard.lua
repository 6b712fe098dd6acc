-- :PromptdDashboard: runs `promptd dashboard --json` (which starts the daemon when needed)
-- and opens the URL it prints in the browser: vim.ui.open on 0.10+, else xdg-open / open.
-- `vim.g.promptd_dashboard_open` (a function taking the URL) replaces the opener, and
-- `vim.g.promptd_cmd` the `promptd` executable.
local M = {}

local function notify(message, level)
  vim.notify('promptd: ' .. message, level or vim.log.levels.INFO)
end

-- The dashboard URL in `promptd dashboard --json`'s output, or nil.
function M.url_from(stdout)
  local ok, doc = pcall(vim.fn.json_decode, stdout)
  if ok and type(doc) == 'table' and type(doc.url) == 'string' then
    if doc.url:find('^http://127%.0%.0%.1:%d+/') then
      return doc.url
    end
  end
  return nil
end

local function open_url(url)
  local custom = vim.g.promptd_dashboard_open
  if type(custom) == 'function' then
    custom(url)
    return
  end
  if vim.ui and vim.ui.open then
    local _, err = vim.ui.open(url)
    if err then
      notify('could not start a browser (' .. tostring(err) .. '); open ' .. url, vim.log.levels.WARN)
    end
    return
  end
  local opener = vim.fn.has('mac') == 1 and 'open' or 'xdg-open'
  if vim.fn.executable(opener) == 1 then
    vim.fn.jobstart({ opener, url }, { detach = true })
  else
    notify('open ' .. url .. ' in your browser')
  end
end

function M.open()
  local exe = vim.g.promptd_cmd or 'promptd'
  local out, err = {}, {}
  local ok, job = pcall(vim.fn.jobstart, { exe, 'dashboard', '--json' }, {
    stdout_buffered = true,
    stderr_buffered = true,
    on_stdout = function(_, data)
      out = data
    end,
    on_stderr = function(_, data)
      err = data
    end,
    on_exit = function(_, code)
      vim.schedule(function()
        local url = code == 0 and M.url_from(table.concat(out, '\n')) or nil
        if url then
          open_url(url)
          return
        end
        local said = (vim.trim(table.concat(err, '\n')):gsub('^promptd: ', ''))
        if said == '' then
          said = 'unexpected output from `' .. exe .. ' dashboard --json`'
        end
        notify('no dashboard: ' .. said, vim.log.levels.ERROR)
      end)
    end,
  })
  if not ok or job <= 0 then
    notify('cannot run `' .. exe .. '`: install promptd so that it is on PATH', vim.log.levels.ERROR)
  end
end

return M
