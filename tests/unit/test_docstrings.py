"""The public API reads as a reference: every class and function that ``import hourglass`` exports, and every one
the docs' generated API reference shows, describes each of its parameters in a numpydoc ``Parameters`` section, and each
function with a result says it under ``Returns``."""

import importlib
import inspect

import pytest

import hourglass as hg


def api_page_names() -> list[str]:
    """The dotted names the generated API reference renders (:mod:`hourglass.cli.reference`)."""
    from hourglass.cli.reference import api_entries

    return [path for paths in api_entries().values() for path in paths]


def resolve(dotted: str):
    module, _, attr = dotted.rpartition(".")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        owner, _, member = module.rpartition(".")  # a class's member: hourglass.training.loop.Trainer.checkpoint
        return getattr(getattr(importlib.import_module(owner), member), attr)


PUBLIC = {name: getattr(hg, name) for name in hg.__all__}
PUBLIC |= {name: resolve(name) for name in api_page_names()}
PUBLIC = {n: o for n, o in PUBLIC.items() if inspect.isclass(o) or inspect.isfunction(o)}


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
            if set(line) == {"-"} or line in ("Returns", "Raises", "Examples", "Notes", "Attributes", "Parameters"):
                break
            names.update(n.strip().lstrip("*") for n in line.split(" : ")[0].split(","))
    return names


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_each_public_name_describes_its_parameters(name):
    obj = PUBLIC[name]
    if getattr(obj, "_is_protocol", False):
        pytest.skip("a protocol: its members are documented, it takes no parameters")
    doc = inspect.getdoc(obj) or ""
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        pytest.skip("no signature to read")
    wanted = {n for n in signature.parameters if n not in ("self", "cls") and not n.startswith("_")}
    if not wanted:
        return
    named_tuple = inspect.isclass(obj) and issubclass(obj, tuple) and hasattr(obj, "_fields")
    section = "Attributes" if named_tuple else "Parameters"
    assert f"{section}\n----------" in doc, f"{name}: no {section} section"
    missing = wanted - documented_names(doc, section)
    assert not missing, f"{name}: {sorted(missing)} not described"
    if inspect.isfunction(obj) and signature.return_annotation not in (inspect.Signature.empty, None, "None"):
        assert "Returns\n-------" in doc, f"{name}: no Returns section"


def test_the_check_reads_a_section():
    doc = "Summary.\n\nParameters\n----------\na, b : int\n    Two.\n*c\n    More.\n\nReturns\n-------\nint\n"
    assert documented_names(doc, "Parameters") == {"a", "b", "c"}


def test_the_api_page_renders_every_exported_name_in_its_room():
    from hourglass.cli.reference import api_page, public_names, room_of

    page = api_page()
    for name, path in public_names().items():
        assert f"::: {path}\n" in page, f"{name} ({path}) is missing from the API page"
        heading = f"## {room_of(path.rpartition('.')[0])}"
        assert page.index(heading) < page.index(f"::: {path}\n"), f"{name} is outside its room"
    assert len(public_names()) == len(hg.__all__) - 1  # all but __version__


def test_the_cli_page_shows_every_command_and_option():
    import argparse

    from hourglass.cli import build_parser
    from hourglass.cli.reference import _commands, cli_page

    page = cli_page()
    for name, sub in _commands(build_parser(), "hourglass"):
        assert f"## `{name}`" in page
        for action in sub._actions:
            if action.help is not None and not isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                for flag in action.option_strings:
                    assert f"`{flag}" in page or f", {flag}" in page, f"{name}: {flag} is missing"
