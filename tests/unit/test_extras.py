"""The core imports no optional package, and a feature used without its extra names the extra in one line."""

import subprocess
import sys

import pytest

from hourglass.extras import OPTIONAL


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_import_hourglass_imports_no_optional_package():
    done = run(
        "import sys, hourglass, hourglass.cli, hourglass.workflow, hourglass.use, hourglass.service\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(OPTIONAL)!r}))"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "missing, argv, extra",
    [
        ("pandas", ["train", "{tmp}/t.csv", "--epochs", "1"], "tables"),
        ("fastapi", ["serve", "{tmp}/run"], "serve"),
        ("onnx", ["export", "{tmp}/run", "-o", "{tmp}/m.onnx"], "export"),
        ("matplotlib", ["diagram", "{tmp}/run", "-o", "{tmp}/d.svg"], "plots"),
    ],
)
def test_a_feature_without_its_extra_says_which_to_install(tmp_path, tiny_model, missing, argv, extra):
    import hourglass as hg

    (tmp_path / "t.csv").write_text("a,b,c\n" + "".join(f"{i},{i % 3},{i % 5}\n" for i in range(30)))
    hg.save(tmp_path / "run", tiny_model)
    argv = [a.format(tmp=tmp_path) for a in argv]
    done = run(f"import sys; sys.modules[{missing!r}] = None\nfrom hourglass.cli import main\nsys.exit(main({argv!r}))")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert f"needs the '{extra}' extra: pip install 'hourglass-ae[{extra}]'" in lines[0]
