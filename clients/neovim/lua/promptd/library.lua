-- Past prompts from the daemon's library: the "N similar prompts" code lens
-- (promptd.pickSimilarPrompt) lists them with vim.ui.select and puts the chosen optimized
-- prompt in place of the prompt literal's content; :PromptdInsert asks for search text
-- (vim.ui.input), lists the hits and inserts the chosen one at the cursor (or over the
-- selection). The server does the search and writes the text (literal kept valid).
local client_mod = require('promptd.client')
local config = require('promptd.config')

local M = {}

local function notify(message, level)
  vim.notify('promptd: ' .. message, level or vim.log.levels.INFO)
end

local function format_item(item)
  return item.label .. '  (' .. item.detail .. ')'
end

-- List `items` and call `on_pick(item)` with the chosen one (nothing when none is chosen).
local function pick(items, title, on_pick)
  if type(items) ~= 'table' or #items == 0 then
    notify('no past prompt found')
    return
  end
  vim.ui.select(items, { prompt = title, format_item = format_item }, function(choice)
    if choice then
      on_pick(choice)
    end
  end)
end

-- The lens command: arguments { uri, range } of the prompt.
function M.pick_similar(command, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if not client then
    return
  end
  local bufnr = ctx.bufnr
  client_mod.execute(client, config.commands.similar_prompts, command.arguments, bufnr, function(result)
    pick(result and result.items, 'Similar past prompts', function(item)
      local args = { result.uri, result.range, item.text, true }
      client_mod.execute(client, config.commands.insert_text, args, bufnr)
    end)
  end)
end

-- The LSP range of the selection (a command range) or the cursor.
local function target_range(client, bufnr, opts)
  local encoding = client.offset_encoding or 'utf-16'
  if opts.range and opts.range > 0 then
    local start_pos = vim.api.nvim_buf_get_mark(bufnr, '<')
    local end_pos = vim.api.nvim_buf_get_mark(bufnr, '>')
    return vim.lsp.util.make_given_range_params(start_pos, end_pos, bufnr, encoding).range
  end
  local params = vim.lsp.util.make_position_params(0, encoding)
  return { start = params.position, ['end'] = params.position }
end

-- :PromptdInsert [search text]: insert a past optimized prompt.
function M.insert(opts)
  opts = opts or {}
  local bufnr = vim.api.nvim_get_current_buf()
  local client = client_mod.get(bufnr)
  if not client then
    notify('no promptd language server is attached to this buffer', vim.log.levels.WARN)
    return
  end
  local uri = vim.uri_from_bufnr(bufnr)
  local range = target_range(client, bufnr, opts)
  local function search(text)
    if not text or vim.trim(text) == '' then
      return
    end
    client_mod.execute(client, config.commands.search_library, { text }, bufnr, function(result)
      pick(result and result.items, 'Past prompts', function(item)
        client_mod.execute(client, config.commands.insert_text, { uri, range, item.text, false }, bufnr)
      end)
    end)
  end
  if opts.text and opts.text ~= '' then
    search(opts.text)
  else
    vim.ui.input({ prompt = 'Search past prompts: ' }, search)
  end
end

-- Client-side commands: the lens runs promptd.pickSimilarPrompt here, not on the server.
function M.register()
  vim.lsp.commands[config.commands.pick_similar] = M.pick_similar
end

return M
