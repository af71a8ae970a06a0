"""argparse types: a value typed on the command line, checked, or one line saying what was expected."""

from __future__ import annotations

import argparse


def ints(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.replace(" ", "").split(",") if v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers such as 256,64,16, got {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers such as 256,64,16, got {text!r}")
    return values


def whole_number(minimum: int):
    """An argparse type: a whole number of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a number of at least {minimum}, got {value}")
        return value

    return parse


positive_int, seed = whole_number(1), whole_number(0)


def whole_or_text(text: str) -> int | str:
    """A whole number if ``text`` is one (the library checks its range and names it), else the text itself."""
    try:
        return int(text)
    except ValueError:
        return text
