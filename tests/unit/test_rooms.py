"""Rooms stay readable: no module of the package is over 400 lines."""

from pathlib import Path

PACKAGE = Path(__file__).parents[2] / "hourglass"
LIMIT = 400


def test_no_module_is_over_400_lines():
    sizes = {p.relative_to(PACKAGE).as_posix(): len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")}
    assert len(sizes) > 50
    assert {name: n for name, n in sizes.items() if n > LIMIT} == {}
