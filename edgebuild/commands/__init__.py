"""CLI command modules: one group or command each, imported lazily by edgebuild.cli."""
