"""The release gate: checks an artifact against a device profile."""
