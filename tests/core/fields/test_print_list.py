"""The print-list grammar of Referenced Frame and Segment Numbers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dicomreg.core.fields import PrintListError, format_print_lists, parse_print_lists


def test_documented_examples():
    assert parse_print_lists("1-2,4,6 : 1 2 3 4 : 1") == [[1, 2, 4, 6], [1, 2, 3, 4], [1]]
    assert parse_print_lists("3-5,7 : 1,2,3,4 : 3") == [[3, 4, 5, 7], [1, 2, 3, 4], [3]]
    assert parse_print_lists("") == []
    assert parse_print_lists("1 - 3") == [[1, 2, 3]]
    assert parse_print_lists("1 : : 2") == [[1], [], [2]]


@pytest.mark.parametrize(("text", "message"), [
    ("0", "list 1: '0' holds 0"), ("1 : 2-0", "list 2: '2-0' holds 0"),
    ("5-3", "list 1: range '5-3' descends"), ("1,x", "list 1: 'x' is not a number"),
    ("1 : 2.5", "list 2: '2.5' is not a number"), ("-3", "list 1: '-3' is not a number"),
    ("1-100000000", "more than"),
])
def test_errors_point_at_the_offending_part(text, message):
    with pytest.raises(PrintListError, match=message):
        parse_print_lists(text)


lists = st.lists(st.lists(st.integers(1, 5000), max_size=20).map(sorted), min_size=1,
                 max_size=6)


@given(lists)
def test_format_then_parse_is_identity(numbers):
    numbers = [sorted(set(n)) for n in numbers]
    text = format_print_lists(numbers)
    # Only a text with no numbers at all is ambiguous: empty means "no lists".
    expected = [] if numbers == [[]] else numbers
    assert parse_print_lists(text) == expected


@given(st.text(max_size=40))
def test_never_crashes_on_arbitrary_text(text):
    try:
        result = parse_print_lists(text)
    except PrintListError:
        return
    assert all(n >= 1 for part in result for n in part)
