"""The layer contracts (pyproject.toml, run by ``make lint``) hold, and they catch an arrow that turns back up: a
copy of the package with one import added against them fails the check, naming the contract."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is in the dev extra")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory):
    def copy(module: str, line: str) -> Path:
        root = tmp_path_factory.mktemp("layers")
        shutil.copytree(ROOT / "hourglass", root / "hourglass", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
        path = root / "hourglass" / module
        path.write_text(path.read_text() + f"\n{line}\n")
        return root

    return copy


def test_the_package_keeps_its_layers():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("service/config.py", "from ..training import loop", "never import the trainer's room"),
        ("store/files.py", "from ..data import tables", "knows neither the data nor the trainer"),
        ("models.py", "from .training import loop", "imports only the rooms below it"),
    ],
)
def test_an_arrow_back_up_fails_the_check(package_copy, module, line, contract):
    done = lint_imports(package_copy(module, line))
    assert done.returncode != 0
    assert contract in done.stdout and "BROKEN" in done.stdout
