"""UserError messages are one line, whatever text a library put in them."""

from __future__ import annotations

from faultcli.errors import DataError, UserError


def test_a_multi_line_message_becomes_one_line():
    err = DataError("a.csv is not a readable CSV file (ParserError: Error tokenizing data.\nC error: line 3\n)")
    assert str(err) == "a.csv is not a readable CSV file (ParserError: Error tokenizing data.; C error: line 3; )"


def test_an_empty_message_still_says_something():
    assert str(UserError()) == "UserError (no details given)"
