" *.prompt and *.prompty files are prompts: the promptd language server optimizes their body.
autocmd BufRead,BufNewFile *.prompt,*.prompty setfiletype prompt
