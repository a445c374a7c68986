"""The error of `kmspolicy access` and `explain`."""


class AccessError(ValueError):
    """Bad input for access/explain (unknown key, principal, action or scenario): exit code 2."""
