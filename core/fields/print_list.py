"""The module's 'print-list' grammar for Referenced Frame and Segment Numbers.

One list per Referenced Image Sequence item, lists separated by colons; inside a list, numbers
and ascending ranges separated by commas or white space::

    "1-2,4,6 : 1 2 3 4 : 1"  ->  [[1, 2, 4, 6], [1, 2, 3, 4], [1]]

Numbers count from 1 (0 is refused). An empty text means no lists; an empty list between two
colons means "no numbers for this item".
"""

from __future__ import annotations

import re

from dicomreg.core.errors import DicomRegError

__all__ = ["PrintListError", "format_print_lists", "parse_print_lists"]

_TOKEN = re.compile(r"^(\d+)(?:\s*-\s*(\d+))?$")
# Guard against a typo such as "1-4000000000" building a list of billions of numbers.
MAX_NUMBERS_PER_LIST = 1_000_000


class PrintListError(DicomRegError):
    """A print-list that breaks the grammar; the message points at the offending part."""


def _parse_one(text: str, item: int) -> list[int]:
    numbers: list[int] = []
    # Split on commas and on white space that does not sit inside a range ("1 - 3").
    normalised = re.sub(r"\s*-\s*", "-", text.strip())
    for token in (t for t in re.split(r"[,\s]+", normalised) if t):
        match = _TOKEN.match(token)
        if match is None:
            raise PrintListError(
                f"list {item}: {token!r} is not a number or a range such as 3-5"
            )
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) else first
        if first == 0 or last == 0:
            raise PrintListError(f"list {item}: {token!r} holds 0; numbers count from 1")
        if last < first:
            raise PrintListError(f"list {item}: range {token!r} descends; write {last}-{first}")
        if len(numbers) + last - first + 1 > MAX_NUMBERS_PER_LIST:
            raise PrintListError(f"list {item}: more than {MAX_NUMBERS_PER_LIST} numbers")
        numbers.extend(range(first, last + 1))
    return numbers


def parse_print_lists(text: str) -> list[list[int]]:
    """Parse colon-separated print-lists; raise :class:`PrintListError` on bad input."""
    if not text.strip():
        return []
    return [_parse_one(part, index) for index, part in enumerate(text.split(":"), 1)]


def format_print_lists(lists: list[list[int]]) -> str:
    """Write lists back in the compact form, ranges collapsed: [[1,2,3,5]] -> '1-3,5'."""
    out = []
    for numbers in lists:
        parts: list[str] = []
        run: list[int] = []
        for n in numbers:
            if run and n == run[-1] + 1:
                run.append(n)
                continue
            if run:
                parts.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
            run = [n]
        if run:
            parts.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        out.append(",".join(parts))
    return " : ".join(out)
