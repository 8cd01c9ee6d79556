"""Errors a user can fix: each prints as one line and makes the CLI exit with status 2."""

from __future__ import annotations


class CnnCostError(Exception):
    """Base for every error caused by the user's input rather than by a bug in cnncost."""


class SpecError(CnnCostError):
    """A problem in a spec, located by file, line and layer path.

    Rendered as ``file:line: path: message`` so editors and CI logs can jump to it.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        path: str | None = None,
        builtin: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.path = path
        self.builtin = builtin  # the built-in model whose spec this is, if it is one

    def located(
        self, *, file: str | None = None, line: int | None = None, path: str | None = None
    ) -> SpecError:
        """Fill in whatever location parts are still unknown, keeping the most precise ones."""
        return SpecError(
            self.message,
            file=self.file or file,
            line=self.line or line,
            path=self.path or path,
        )

    def __str__(self) -> str:
        where = ""
        if self.file and self.builtin:  # a file the user may not have: name the model
            name = self.file.rsplit("/", 1)[-1] + (f":{self.line}" if self.line else "")
            where = f"{self.builtin} (built-in {name}): "
        elif self.file:
            where = self.file + (f":{self.line}" if self.line else "") + ": "
        elif self.line:
            where = f"line {self.line}: "
        if self.path:
            path = self.path if len(self.path) <= 120 else self.path[:120] + "…"
            where += f"{path}: "
        return where + self.message


class ShapeError(CnnCostError):
    """Raised by an op's shape rule; the builder adds the layer's location."""


class ExprError(CnnCostError):
    """Raised by the expression evaluator; the caller adds the location."""


def did_you_mean(word: str, choices: object) -> str:
    """A ' (did you mean X?)' suffix naming the closest choices, or '' when none is close."""
    import difflib

    names = {str(c).lower(): str(c) for c in choices}  # case aside: 'VGG16' is 'vgg16'
    key = str(word).lower()
    if key in names:
        close = [names[key]]
    else:
        close = [names[c] for c in difflib.get_close_matches(key, list(names), n=3, cutoff=0.6)]
    if not close:
        return ""
    return " (did you mean " + " or ".join(repr(c) for c in close) + "?)"
