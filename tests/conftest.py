import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
SHARED_CIFAR = ROOT.parent / "shared" / "data" / "cifar-10-batches-py"


@pytest.fixture(scope="session")
def cifar10_dir():
    """The real local CIFAR-10 folder (CIFAR10_DIR), or skip (or fail on CI)."""
    folder = os.environ.get("CIFAR10_DIR") or (SHARED_CIFAR if SHARED_CIFAR.is_dir() else None)
    if not folder or not Path(folder).is_dir():
        if os.environ.get("CI"):
            pytest.fail("CI must set CIFAR10_DIR to a cifar-10-batches-py folder")
        pytest.skip("no local CIFAR-10 copy: set CIFAR10_DIR")
    return Path(folder)
