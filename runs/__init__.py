"""Campaign definitions (TOML) and the scripts that reproduce the papers."""
