"""The one exception type of `flowops.flowyaml`."""

from __future__ import annotations


class FlowYamlError(ValueError):
    """An Architect flow YAML document that cannot be read or rendered.

    `line` and `column` are 1-based and refer to the text the caller passed in (after CRLF
    normalisation, which keeps line numbers). `hint` says what usually fixes the problem.
    """

    def __init__(
        self,
        problem: str,
        *,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.problem = problem
        self.line = line
        self.column = column
        self.hint = hint
        super().__init__(self._compose())

    def _compose(self) -> str:
        where = ""
        if self.line is not None:
            where = f"line {self.line}"
            if self.column is not None:
                where += f", column {self.column}"
            where += ": "
        text = f"{where}{self.problem}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text
