"""Pure helpers that reason about libcst trees; each module has one job and its own tests."""
