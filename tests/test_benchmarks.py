"""The benchmark script's result line and record (benchmarks/train_speed.py)."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "train_speed.py"


@pytest.fixture(scope="module")
def train_speed():
    spec = importlib.util.spec_from_file_location("train_speed", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CPUINFO = """processor\t: 0
model name\t: Example CPU 9000
flags\t\t: fpu sse2 avx avx2 fma {extra}

processor\t: 1
model name\t: Example CPU 9000
flags\t\t: fpu sse2 avx avx2 fma {extra}
"""


@pytest.mark.parametrize("extra, vector", [("", "AVX2"), ("avx512f avx512bw", "AVX-512")])
def test_cpu_description_names_model_and_vector_unit(train_speed, extra, vector):
    described = train_speed.cpu_description(CPUINFO.format(extra=extra))
    assert described == f"Example CPU 9000 ({vector})"


def test_cpu_description_without_avx2(train_speed):
    assert train_speed.cpu_description("model name : Old CPU\nflags : fpu sse2\n") == (
        "Old CPU (no AVX2)"
    )


def test_machine_line_names_backend_and_gpus(train_speed):
    line = train_speed.machine()
    assert "tensorflow backend (tensorflow " in line and "Keras 3." in line
    assert line.endswith("GPUs: 0")  # the test machines have none


def test_fast_recipe_run_prints_and_records_its_result(train_speed, monkeypatch, tmp_path, capsys):
    import cifar_helpers.data

    rng = np.random.default_rng(0)

    def tiny_cifar10(data_dir=None):
        images = rng.integers(0, 256, (600, 32, 32, 3), dtype=np.uint8)
        labels = np.arange(600).reshape(-1, 1) % 10
        return (images[:500], labels[:500]), (images[500:], labels[500:])

    monkeypatch.setattr(cifar_helpers.data, "load_cifar10", tiny_cifar10)
    record = tmp_path / "runs.jsonl"
    train_speed.main(["fast-90", "--epochs", "1", "--seed-batches", "0", "--record", str(record)])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("fast-90: test (100 images) accuracy ")
    assert "1 epochs" in last and last.endswith(train_speed.machine())
    run = json.loads(record.read_text())
    assert run["config"] == "fast-90" and run["epochs"] == 1 and run["lookahead_every"] == 5
    assert 0 <= run["accuracy"] <= 1 and run["train_seconds"] > 0
