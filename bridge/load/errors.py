"""Load errors: `TemplateError` (file, line, column: what users see) and `_Fail`, a located
problem found while parsing, before the file name is attached."""

from __future__ import annotations


class TemplateError(Exception):
    """A template that cannot be loaded: `str(e) == "file:line:col: message"`."""

    def __init__(self, message: str, file: str | None = None,
                 line: int | None = None, column: int | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.column = column if line is not None else None
        super().__init__(message, file, line, column)

    def __str__(self) -> str:
        parts = [str(p) for p in (self.file, self.line, self.column) if p not in (None, "")]
        return f"{':'.join(parts)}: {self.message}" if parts else self.message


class _Fail(Exception):
    """Internal: a located problem (0-based line/column) before the file name is known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def to_error(self, file: str) -> TemplateError:
        line = self.line + 1 if self.line is not None else None
        column = self.column + 1 if self.column is not None else None
        return TemplateError(self.message, file, line, column)
