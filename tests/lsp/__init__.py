"""Tests of the language server: pure features here, the server over stdio in tests/e2e."""
