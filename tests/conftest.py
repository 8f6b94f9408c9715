import importlib.util
import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
SHARED_CIFAR = ROOT.parent / "shared" / "data" / "cifar-10-batches-py"
BENCHMARKS = ROOT / "benchmarks"


@pytest.fixture(scope="session")
def cifar10_dir():
    """The real local CIFAR-10 folder (CIFAR10_DIR), or skip (or fail on CI)."""
    folder = os.environ.get("CIFAR10_DIR") or (SHARED_CIFAR if SHARED_CIFAR.is_dir() else None)
    if not folder or not Path(folder).is_dir():
        if os.environ.get("CI"):
            pytest.fail("CI must set CIFAR10_DIR to a cifar-10-batches-py folder")
        pytest.skip("no local CIFAR-10 copy: set CIFAR10_DIR")
    return Path(folder)


def _load_benchmark(name):
    """Import ``benchmarks/<name>.py`` (a script, not a package module) by its file path."""
    path = BENCHMARKS / f"{name}.py"
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def load_benchmark():
    """A function that imports a benchmark script by name, e.g. ``load_benchmark("ablation")``."""
    return _load_benchmark


@pytest.fixture(scope="module")
def train_speed(load_benchmark):
    return load_benchmark("train_speed")


@pytest.fixture
def onednn_setting_restored(monkeypatch):
    """The scripts' entry points set TF_ENABLE_ONEDNN_OPTS; put it back after each test."""
    if "TF_ENABLE_ONEDNN_OPTS" in os.environ:
        monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", os.environ["TF_ENABLE_ONEDNN_OPTS"])
    else:
        monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
