-- promptd's language server for Neovim 0.11+: enable it with
--   vim.lsp.enable('promptd')
-- and override anything with vim.lsp.config('promptd', { ... }), for example
--   vim.lsp.config('promptd', { settings = { promptd = { engine = 'llm' } } })
-- The table comes from lua/promptd/config.lua, shared with setup() for Neovim 0.7-0.10.
return require('promptd.config').lsp_config()
