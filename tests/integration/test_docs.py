"""The documentation's examples cannot rot: every ```python block of a page runs in one namespace per page, in a
fresh folder (a ```py block is shown, not run, and the comment above it says why: it needs files a shell step makes
first), and every `hourglass …` command in the README and the docs is one the CLI's parser accepts. The site
itself is built by `mkdocs build --strict` in .ci/run."""

import json
import re
import shlex
from pathlib import Path

import pytest

DOCS = Path(__file__).parents[2] / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if "```python" in p.read_text())


def test_the_docs_have_examples_to_run():
    names = {p.relative_to(DOCS).as_posix() for p in PAGES}
    assert {"getting-started.md", "guide/training.md", "guide/variants.md", "guide/sklearn.md"} <= names


def test_every_python_example_not_run_says_why():
    """A ```py block is shown, not run: the line above it says why, in an HTML comment the site does not show."""
    for page in [DOCS.parent / "README.md", *sorted(DOCS.rglob("*.md"))]:
        text = page.read_text()
        for block in re.finditer(r"^```py$", text, re.M):
            above = text[: block.start()].rstrip("\n").rsplit("\n", 1)[-1]
            assert re.fullmatch(r"<!-- not run: .{10,} -->", above), f"{page.name}: a ```py block without its reason"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_every_python_example_runs(page, tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(), re.S)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(page), "exec"), namespace)


def commands(text: str) -> list[list[str]]:
    """Every `hourglass …` command in the fenced blocks of ``text``, as its words: continuation lines joined, a
    prompt, a comment, redirections and the other commands of a shell line (after ``&&``, ``|``, ``;``, ``&``)
    set apart."""
    found = []
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"^(\$ )?(\w+=\S+ )*", "", line.strip())  # a prompt, the environment's assignments
            if not line.startswith("hourglass "):
                continue
            lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
            lexer.whitespace_split, lexer.commenters = True, "#"
            words, command, redirected = list(lexer), [], False
            for word in [*words, ";"]:
                if word in ("&&", "||", ";", "|", "&"):
                    if command[:1] == ["hourglass"]:
                        found.append(command)
                    command, redirected = [], False
                elif word in (">", ">>", "<", "2>"):
                    redirected = True
                elif redirected:
                    redirected = False  # the file a redirection names
                else:
                    command.append(word)
    return found


COMMAND_PAGES = [DOCS.parent / "README.md", *sorted(DOCS.rglob("*.md"))]
DOCUMENTED = [(p, c) for p in COMMAND_PAGES for c in commands(p.read_text())]


def test_the_docs_show_commands_of_every_kind():
    shown = {c[1] for _, c in DOCUMENTED}
    assert {"train", "evaluate", "score", "denoise", "prior", "sample", "export", "serve", "claims"} <= shown


@pytest.mark.parametrize("page, command", DOCUMENTED, ids=[f"{p.name}:{c[:60]}" for p, c in DOCUMENTED])
def test_every_documented_command_is_one_the_parser_accepts(page, command, capsys):
    """A renamed or removed flag, a wrong choice or a missing argument in any page fails here."""
    from hourglass.cli import build_parser

    try:
        build_parser().parse_args(command[1:])
    except SystemExit:
        refused = capsys.readouterr().err.strip().splitlines()[-1]
        pytest.fail(f"{page.name}: `{shlex.join(command)}` is refused: {refused}")


def _figure_tables():
    import importlib.util

    spec = importlib.util.spec_from_file_location("figure_tables", DOCS / "figure_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_generated_table_a_page_names_exists_and_renders_from_its_record():
    tables = _figure_tables()
    named = {m[1] for page in DOCS.rglob("*.md") for m in tables.MARKER.findall(page.read_text())}
    assert named == set(tables.TABLES), "a page names a table that does not exist, or a table no page shows"
    for page in ("benchmarks.md", "claims.md", "references.md"):
        assert "<!-- table:" not in tables.fill((DOCS / page).read_text())
    for name in tables.TABLES:
        assert "| --- |" in tables.render(name) or "|---|" in tables.render(name), f"{name}: no record, no table"


def test_a_rerun_of_a_benchmark_changes_its_table(tmp_path):
    tables = _figure_tables()
    (tmp_path / "bench").mkdir()
    for record in tables.RECORDS.glob("bench/*.json"):
        (tmp_path / "bench" / record.name).write_text(record.read_text())
    record = json.loads((tmp_path / "bench" / "codebook.json").read_text())
    record["variants"][0]["codebook_perplexity"] = 61.234
    (tmp_path / "bench" / "codebook.json").write_text(json.dumps(record))
    assert "61.2" in tables.render("codebook", tmp_path)
    assert "61.2" not in tables.render("codebook")
