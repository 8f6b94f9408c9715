"""The course's seed model is plain Keras: saved the course's way, it loads without the course."""

import subprocess
import sys

import numpy as np
import pytest

keras = pytest.importorskip("keras")

LOAD_WITHOUT_THE_COURSE = """
import sys
import numpy as np
import keras
model = keras.saving.load_model(sys.argv[1])
x = np.load(sys.argv[2])
np.save(sys.argv[3], model.predict(x, verbose=0))
print(sorted(m for m in sys.modules if m.startswith("cifar_helpers")))
print(type(model.optimizer).__name__, [type(layer).__name__ for layer in model.layers])
"""


def test_seed_model_saved_the_course_way_loads_with_plain_keras(tmp_path):
    from cifar_helpers.models import build_seed_model
    from cifar_helpers.saving import save_model

    keras.utils.set_random_seed(0)
    model = build_seed_model()
    x = np.random.default_rng(0).random((4, 32, 32, 3)).astype("float32")
    y = np.eye(10, dtype="float32")[[1, 2, 3, 4]]
    model.train_on_batch(x, y)  # an optimizer with state, as after training
    path = save_model(model, tmp_path / "seed_cnn.keras")
    np.save(tmp_path / "x.npy", x)
    result = subprocess.run(
        [sys.executable, "-c", LOAD_WITHOUT_THE_COURSE, str(path), str(tmp_path / "x.npy"),
         str(tmp_path / "p.npy")],
        capture_output=True, text=True, timeout=300, check=True, cwd=tmp_path,
    )
    modules, classes = result.stdout.strip().splitlines()[-2:]
    assert modules == "[]"  # the fresh process never imported cifar_helpers
    assert classes.startswith("SGD ")
    assert "Fast" not in classes
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
