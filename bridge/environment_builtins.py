"""Builtins that reach the network or the process environment: refused in rule packs unless
`--allow-builtin` names them (pack_checks.py). A module of its own so that the CLI's option
reads it without importing the pack checks."""

ENVIRONMENT_BUILTINS = ("http.send", "net.lookup_ip_addr", "opa.runtime")
