"""The public API reads as a reference: every class and function that ``import hourglass`` exports describes each
of its parameters in a numpydoc ``Parameters`` section, and each function with a result says it under
``Returns``."""

import inspect

import pytest

import hourglass as hg

PUBLIC = [name for name in hg.__all__ if inspect.isclass(getattr(hg, name)) or inspect.isfunction(getattr(hg, name))]


def documented_names(doc: str, section: str) -> set[str]:
    """The names a numpydoc section lists (``a, b : type`` lines under its underlined heading)."""
    lines = doc.splitlines()
    if section not in lines:
        return set()
    start = lines.index(section) + 2
    names: set[str] = set()
    for line in lines[start:]:
        if not line.strip():
            continue
        if not line.startswith(" "):
            if set(line) == {"-"} or line in ("Returns", "Raises", "Examples", "Notes", "Attributes"):
                break
            names.update(n.strip().lstrip("*") for n in line.split(" : ")[0].split(","))
    return names


@pytest.mark.parametrize("name", PUBLIC)
def test_each_public_name_describes_its_parameters(name):
    obj = getattr(hg, name)
    doc = inspect.getdoc(obj) or ""
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        pytest.skip("no signature to read")
    wanted = {n for n in signature.parameters if n not in ("self", "cls")}
    if not wanted:
        return
    assert "Parameters\n----------" in doc, f"{name}: no Parameters section"
    missing = wanted - documented_names(doc, "Parameters")
    assert not missing, f"{name}: {sorted(missing)} not described"
    if inspect.isfunction(obj) and signature.return_annotation not in (inspect.Signature.empty, None, "None"):
        assert "Returns\n-------" in doc, f"{name}: no Returns section"


def test_the_check_reads_a_section():
    doc = "Summary.\n\nParameters\n----------\na, b : int\n    Two.\n*c\n    More.\n\nReturns\n-------\nint\n"
    assert documented_names(doc, "Parameters") == {"a", "b", "c"}
