"""Output formats for `kmspolicy eval --format`: one module per format, one registry.

Each format lives in its own module in this package, which defines `REPORTER`, an object
satisfying `base.Reporter`. Adding a format is one line: its module name in `_MODULES`.
The order of `_MODULES` is the order of the `--format` choices; the first is the default.
"""

from __future__ import annotations

from importlib import import_module

from .base import ReportContext, Reporter, file_sources, no_sources

_MODULES = (
    "text",
    "json_format",
    "sarif",
    "github",
    "junit",
)

REPORTERS: dict[str, Reporter] = {
    reporter.name: reporter
    for reporter in (import_module(f"{__name__}.{module}").REPORTER for module in _MODULES)
}

DEFAULT_FORMAT = next(iter(REPORTERS))


class UnknownFormatError(ValueError):
    pass


def get_reporter(name: str) -> Reporter:
    """The reporter for `--format name`; UnknownFormatError (a ValueError) if there is none."""
    try:
        return REPORTERS[name]
    except KeyError:
        choices = ", ".join(REPORTERS)
        raise UnknownFormatError(f"unknown format {name!r} (choose from: {choices})") from None


__all__ = [
    "DEFAULT_FORMAT",
    "REPORTERS",
    "ReportContext",
    "Reporter",
    "UnknownFormatError",
    "file_sources",
    "get_reporter",
    "no_sources",
]
