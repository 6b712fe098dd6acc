"""End-to-end tests: real processes (the daemon, the language server, a real Neovim)."""
