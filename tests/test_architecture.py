"""The package's shape: layers enforced by import-linter, module sizes, nothing on import."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "cifar_helpers"
LINT_IMPORTS = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which(
    "lint-imports"
)

#: The most lines a module may have (a widget module: fewer), so each reads in one sitting.
MAX_MODULE_LINES = 700
MAX_WIDGET_LINES = 400
MAX_README_LINES = 220


def _lint_imports(cwd):
    """Run import-linter with the contracts of `cwd`/pyproject.toml on the package in `cwd`."""
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [LINT_IMPORTS, "--config", str(cwd / "pyproject.toml"), "--no-cache"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )


@pytest.fixture(scope="module")
def linter():
    if LINT_IMPORTS is None:
        pytest.fail("lint-imports (import-linter) is not installed: pip install -e '.[dev]'")
    return _lint_imports


def test_import_contracts_hold(linter):
    result = linter(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    "module, line, broken",
    [
        # The architecture module must not reach up to the training loop, even lazily.
        ("models.py", "def _sneaky():\n    from . import training\n", "Layers"),
        # The NumPy core must not import a framework.
        ("convolution.py", "def _sneaky():\n    import keras\n", "NumPy core"),
        ("windows.py", "import tensorflow\n", "NumPy core"),
    ],
)
def test_a_violating_import_breaks_a_contract(linter, tmp_path, module, line, broken):
    # A copy of the package with one bad import added: the contracts must catch it.
    shutil.copytree(PACKAGE, tmp_path / "cifar_helpers",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    path = tmp_path / "cifar_helpers" / module
    path.write_text(path.read_text() + "\n\n" + line)
    result = linter(tmp_path)
    assert result.returncode != 0, result.stdout
    assert "1 broken" in result.stdout
    assert broken in result.stdout.split("Broken contracts")[-1]


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_module_reads_in_one_sitting(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    limit = MAX_WIDGET_LINES if "widgets" in path.relative_to(PACKAGE).parts else MAX_MODULE_LINES
    assert lines <= limit, f"{path.relative_to(ROOT)} has {lines} lines (at most {limit})"


def test_readme_is_a_course_readme():
    lines = len((ROOT / "README.md").read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines (at most {MAX_README_LINES})"


_IMPORT_ALL = """
import importlib, json, os, pkgutil, sys
import ipywidgets, keras, matplotlib.pyplot, tensorflow  # the frameworks set variables of their own
before = dict(os.environ)
import cifar_helpers
names = [m.name for m in pkgutil.walk_packages(cifar_helpers.__path__, "cifar_helpers.")]
for name in names:
    importlib.import_module(name)
after = dict(os.environ)
changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
print(json.dumps({"modules": len(names), "changed": changed}))
"""


def test_importing_every_module_leaves_the_environment_alone():
    env = {k: v for k, v in os.environ.items() if k not in ("TF_ENABLE_ONEDNN_OPTS",)}
    result = subprocess.run([sys.executable, "-c", _IMPORT_ALL], env=env, capture_output=True,
                            text=True, timeout=300, check=True)
    import json

    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["modules"] > 20
    assert report["changed"] == []


_NUMPY_CORE = """
import sys
import cifar_helpers.windows, cifar_helpers.convolution, cifar_helpers.pooling
import cifar_helpers.activations, cifar_helpers.filters, cifar_helpers.layers_numpy
import cifar_helpers.data, cifar_helpers.photos, cifar_helpers.metrics, cifar_helpers.augmentation
print(sorted(m for m in ("keras", "tensorflow", "ipywidgets") if m in sys.modules))
"""


def test_the_numpy_core_loads_no_framework():
    result = subprocess.run([sys.executable, "-c", _NUMPY_CORE], capture_output=True, text=True,
                            timeout=120, check=True)
    assert result.stdout.strip() == "[]"


def test_no_sys_path_hacks_in_benchmarks():
    offenders = [p.name for p in (ROOT / "benchmarks").glob("*.py")
                 if "sys.path.insert" in p.read_text(encoding="utf-8")]
    assert offenders == []
