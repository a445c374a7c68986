"""Output formats for `kmspolicy eval --format`: one module per format, one registry.

Each format lives in its own module in this package, which defines `REPORTER`, an object
satisfying `base.Reporter`. Adding a format is one line: its name and module in `_MODULES`.
The order of `_MODULES` is the order of the `--format` choices; the first is the default.
A format's module is imported when its reporter is first looked up, so a run imports only
the formats it writes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import import_module

from .base import ReportContext, Reporter, file_sources, no_sources

_MODULES = {  # --format name: module
    "text": "text",
    "json": "json_format",
    "sarif": "sarif",
    "github": "github",
    "junit": "junit",
}


class _Registry(Mapping[str, Reporter]):
    """The reporters by format name, each imported on first use."""

    def __getitem__(self, name: str) -> Reporter:
        return import_module(f"{__name__}.{_MODULES[name]}").REPORTER

    def __contains__(self, name: object) -> bool:  # Mapping's would import the module
        return name in _MODULES

    def __iter__(self) -> Iterator[str]:
        return iter(_MODULES)

    def __len__(self) -> int:
        return len(_MODULES)


REPORTERS: Mapping[str, Reporter] = _Registry()

DEFAULT_FORMAT = next(iter(REPORTERS))


class UnknownFormatError(ValueError):
    pass


def get_reporter(name: str) -> Reporter:
    """The reporter for `--format name`; UnknownFormatError (a ValueError) if there is none."""
    if name not in REPORTERS:
        choices = ", ".join(REPORTERS)
        raise UnknownFormatError(f"unknown format {name!r} (choose from: {choices})")
    return REPORTERS[name]


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
