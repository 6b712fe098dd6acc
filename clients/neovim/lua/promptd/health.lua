-- :checkhealth promptd -- is the promptd executable there, which version, is the daemon up?
-- Works on Neovim 0.7+ (vim.health on 0.10+, the older health.report_* names before).
local M = {}

local function reporter()
  local h = vim.health or require('health')
  return {
    start = h.start or h.report_start,
    ok = h.ok or h.report_ok,
    warn = h.warn or h.report_warn,
    error = h.error or h.report_error,
    info = h.info or h.report_info,
  }
end

-- The executable the language server is started with: setup({ path = ... }),
-- vim.lsp.config('promptd', { cmd = {...} }) on 0.11+, else `promptd` on PATH.
local function executable()
  local cmd = require('promptd').cmd
  if cmd == nil and vim.lsp.config ~= nil then
    local ok, cfg = pcall(function()
      return vim.lsp.config.promptd
    end)
    if ok and type(cfg) == 'table' and type(cfg.cmd) == 'table' then
      cmd = cfg.cmd
    end
  end
  return (cmd or require('promptd.config').cmd())[1]
end

local function run(cmd)
  local out = vim.fn.system(cmd)
  return vim.v.shell_error, vim.trim(out or '')
end

function M.check()
  local r = reporter()
  r.start('promptd')
  local exe = executable()
  if vim.fn.executable(exe) ~= 1 then
    r.error(('"%s" is not executable (PATH: %s)'):format(exe, vim.env.PATH or ''), {
      require('promptd').install_help,
    })
    return
  end
  r.ok('executable: ' .. vim.fn.exepath(exe))

  local code, version = run({ exe, '--version' })
  if code ~= 0 then
    r.error(('`%s --version` failed (exit %d): %s'):format(exe, code, version))
    return
  end
  r.ok('version: ' .. version)

  local scode, out = run({ exe, 'status', '--json' })
  if scode ~= 0 then
    r.error(('`%s status --json` failed (exit %d): %s'):format(exe, scode, out), {
      'Run it in a terminal to see the whole message (a config.toml typo, for example).',
    })
    return
  end
  local ok, status = pcall(vim.fn.json_decode, out)
  if not ok or type(status) ~= 'table' then
    r.error('`promptd status --json` did not print JSON: ' .. out:sub(1, 200))
    return
  end
  local engine = ('engine %s, provider %s'):format(
    tostring(status.engine),
    type(status.provider) == 'table' and tostring(status.provider.name) or '?'
  )
  if status.running then
    r.ok(('daemon running (pid %s), %s; home %s'):format(tostring(status.pid), engine, tostring(status.home)))
  else
    r.warn(('daemon not running (%s; home %s)'):format(engine, tostring(status.home)), {
      'It starts on the first optimization, or run `promptd start` (`:PromptdDaemon start`).',
    })
  end
  local inbox = status.inbox
  if type(inbox) == 'table' and type(inbox.failed) == 'number' and inbox.failed > 0 then
    r.warn(('%d file(s) in %s/failed'):format(inbox.failed, tostring(inbox.path)), inbox.errors)
  end

  local clients = require('promptd').clients()
  if next(clients) == nil then
    r.info('no promptd language server attached to this buffer')
  else
    for _, client in pairs(clients) do
      r.ok(('language server attached (client %d)'):format(client.id))
    end
  end
end

return M
