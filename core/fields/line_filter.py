"""The tag dump's line filter (``regExLineFilter``): the documentation's regular expressions.

The module documentation's examples are Boost regular expressions matched against whole
lines: ``.*logo.*``, ``.*[[:digit:]].*``, ``.*\\l.*`` (a lower-case letter), ``.*\\u.*`` (an
upper-case letter), ``[[:w:]]`` (a word character). Python's ``re`` has neither POSIX classes
nor ``\\l``/``\\u``, and no time limit; the ``regex`` package has POSIX classes and a timeout,
and the rest is translated here. A filter can therefore never hang the program: matching
stops with a clear error when it exceeds its time budget.
"""

from __future__ import annotations

import time

from dicomreg.core.errors import DicomRegError

__all__ = ["LineFilter", "LineFilterError"]

# Boost's one-letter class names, and its \l \u escapes, in the regex package's words.
_SHORT_CLASSES = {"w": "word", "d": "digit", "s": "space", "l": "lower", "u": "upper"}
_ESCAPES = {"l": "[[:lower:]]", "u": "[[:upper:]]"}
_SECONDS_PER_LINE = 0.25
_SECONDS_IN_ALL = 2.0


class LineFilterError(DicomRegError):
    """A filter that is not a valid expression, or that takes too long to match."""


def _translate(expression: str) -> str:
    out, i = [], 0
    while i < len(expression):
        char = expression[i]
        if char == "\\" and i + 1 < len(expression):
            follower = expression[i + 1]
            out.append(_ESCAPES.get(follower, char + follower))
            i += 2
            continue
        if expression.startswith("[:", i) and expression.find(":]", i + 2) > 0:
            end = expression.find(":]", i + 2)
            name = expression[i + 2 : end]
            out.append(f"[:{_SHORT_CLASSES.get(name, name)}:]")
            i = end + 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


class LineFilter:
    """Keeps the lines that the expression matches as a whole (Boost's regex_match).

    Raises
    ------
    LineFilterError
        If the expression is invalid (on construction) or too slow (on filtering).
    """

    def __init__(self, expression: str) -> None:
        import regex  # here: a save without a filter does not pay its 0.03 s import

        self.expression = expression
        try:
            self._pattern = regex.compile(_translate(expression), regex.VERSION0)
        except regex.error as error:
            raise LineFilterError(f"regExLineFilter: {expression!r} is not a valid regular "
                                  f"expression ({error})") from None

    def matches(self, line: str, timeout: float = _SECONDS_PER_LINE) -> bool:
        """Whether the whole line matches."""
        try:
            return self._pattern.fullmatch(line, timeout=timeout) is not None
        except TimeoutError:
            raise LineFilterError(f"regExLineFilter: {self.expression!r} takes too long to "
                                  "match (catastrophic backtracking?); simplify it") from None

    def filter(self, lines: list[str]) -> list[str]:
        """The matching lines, within an overall time budget."""
        deadline = time.monotonic() + _SECONDS_IN_ALL
        kept = []
        for line in lines:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LineFilterError(f"regExLineFilter: {self.expression!r} takes too long "
                                      "over the whole dump; simplify it")
            if self.matches(line, timeout=min(_SECONDS_PER_LINE, remaining)):
                kept.append(line)
        return kept
