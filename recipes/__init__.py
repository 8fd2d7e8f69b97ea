"""Bundled recipes: one YAML pipeline per file."""
