"""Bundled device profiles: one YAML file per device."""
