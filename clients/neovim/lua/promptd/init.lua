-- promptd for Neovim: the language server client, its commands and a status line helper.
--
-- Neovim 0.11+ needs no setup: the plugin ships lsp/promptd.lua, so
--   vim.lsp.enable('promptd')
-- is enough (override anything with vim.lsp.config('promptd', {...})).
-- Neovim 0.7-0.10 (and 0.11+ too, if you like one call):
--   require('promptd').setup({
--     path = 'promptd',                -- the promptd executable (default: on PATH)
--     filetypes = { ... },             -- default: require('promptd.config').filetypes
--     settings = {                     -- the server's `promptd` settings section
--       engine = 'offline',            -- or 'llm'
--       model = '',                    -- '' = the provider's default
--       diagnostics = { enabled = true, severity = 'auto' },  -- or error|warning|information|hint
--       detection = { minWords = 12 },
--       codeLens = true,
--     },
--     on_attach = function(client, bufnr) end,
--   })
--
-- Exports: setup, optimize, status, history, daemon, statusline, alerting, clients.
local config = require('promptd.config')

local M = {}

local uv = vim.uv or vim.loop
local has_011 = vim.fn.has('nvim-0.11') == 1

M.install_help = 'Install promptd so that `promptd` is on PATH (for example '
  .. '`pipx install /path/to/promptd` from a clone, or `make run` in a clone and use '
  .. '.venv/bin/promptd), or pass setup({ path = "/full/path/to/promptd" }); '
  .. 'see clients/neovim/README.md'

local function executable_error(command)
  return ('promptd: cannot start the language server: "%s" is not executable. %s'):format(
    command,
    M.install_help
  )
end

-- Warn once, clearly, when the server command cannot run.
local warned = false
function M.check_executable(cmd)
  if type(cmd) ~= 'table' or vim.fn.executable(cmd[1]) == 1 then
    return true
  end
  if not warned then
    warned = true
    vim.schedule(function()
      vim.notify(executable_error(cmd[1]), vim.log.levels.ERROR)
    end)
  end
  return false
end

local function is_dir(path)
  local stat = uv.fs_stat(path)
  return stat ~= nil and stat.type == 'directory'
end

local function exists(path)
  return uv.fs_stat(path) ~= nil
end

local function dirname(path)
  return vim.fn.fnamemodify(path, ':h')
end

-- The nearest folder holding a root marker, walking up from the buffer's file; else the
-- file's own folder (or the working directory for an unnamed buffer).
function M.find_root(bufnr, markers)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == '' then
    return vim.fn.getcwd()
  end
  local dir = dirname(vim.fn.fnamemodify(name, ':p'))
  local start = dir
  while true do
    for _, marker in ipairs(markers) do
      if exists(dir .. '/' .. marker) then
        return dir
      end
    end
    local parent = dirname(dir)
    if parent == dir then
      break
    end
    dir = parent
  end
  return is_dir(start) and start or vim.fn.getcwd()
end

local function contains(list, value)
  for _, item in ipairs(list) do
    if item == value then
      return true
    end
  end
  return false
end

-- 0.7-0.10: one client per root folder, started on the first matching buffer.
local started = {} -- root_dir -> client id

local function client_config(opts, root)
  local capabilities = opts.capabilities or vim.lsp.protocol.make_client_capabilities()
  return {
    name = config.name,
    cmd = opts.cmd,
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = root } },
    get_language_id = config.language_id,
    init_options = config.init_options(opts.settings),
    settings = config.settings(opts.settings),
    handlers = vim.tbl_extend('force', config.handlers(), opts.handlers or {}),
    capabilities = capabilities,
    on_attach = opts.on_attach,
    on_exit = function()
      started[root] = nil
    end,
  }
end

local function attach(opts, bufnr)
  if vim.bo[bufnr].buftype ~= '' or not contains(opts.filetypes, vim.bo[bufnr].filetype) then
    return
  end
  if not M.check_executable(opts.cmd) then
    return
  end
  local root = M.find_root(bufnr, opts.root_markers)
  local id = started[root]
  if id == nil or vim.lsp.get_client_by_id(id) == nil then
    id = vim.lsp.start_client(client_config(opts, root))
    if id == nil then
      vim.notify(executable_error(opts.cmd[1]), vim.log.levels.ERROR)
      return
    end
    started[root] = id
  end
  vim.lsp.buf_attach_client(bufnr, id)
end

local function normalize(opts)
  opts = vim.deepcopy(opts or {})
  opts.cmd = opts.cmd or config.cmd(opts.path)
  opts.filetypes = opts.filetypes or vim.deepcopy(config.filetypes)
  opts.root_markers = opts.root_markers or vim.deepcopy(config.root_markers)
  return opts
end

-- Start promptd's language server for the configured filetypes (see the header).
function M.setup(opts)
  opts = normalize(opts)
  M.cmd = opts.cmd -- for :checkhealth promptd
  if has_011 and vim.lsp.config and vim.lsp.enable then
    local overrides = {
      cmd = opts.cmd,
      filetypes = opts.filetypes,
      root_markers = opts.root_markers,
      init_options = config.init_options(opts.settings),
      settings = config.settings(opts.settings),
    }
    if opts.on_attach then
      overrides.on_attach = opts.on_attach
    end
    if opts.capabilities then
      overrides.capabilities = opts.capabilities
    end
    if opts.handlers then
      overrides.handlers = opts.handlers
    end
    vim.lsp.config(config.name, overrides)
    M.check_executable(opts.cmd)
    vim.lsp.enable(config.name)
    return
  end

  local group = vim.api.nvim_create_augroup('promptd_setup', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = opts.filetypes,
    callback = function(args)
      attach(opts, args.buf)
    end,
    desc = 'Attach the promptd language server',
  })
  -- Buffers opened before setup() ran.
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) then
      attach(opts, bufnr)
    end
  end
end

function M.optimize(opts)
  return require('promptd.commands').optimize(opts)
end

function M.status()
  return require('promptd.commands').status()
end

function M.history()
  return require('promptd.commands').history()
end

function M.daemon(action)
  return require('promptd.commands').daemon(action)
end

-- For the status line: "promptd offline $0.12/$5.00 | Optimizing prompt: designer 60%".
function M.statusline(bufnr)
  return require('promptd.status').statusline(bufnr)
end

function M.alerting()
  return require('promptd.status').alerting()
end

function M.clients(bufnr)
  return require('promptd.client').clients(bufnr)
end

return M
