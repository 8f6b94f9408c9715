import pytest

from cifar_helpers.config import MODELS_DIR, QUICK_ENV, model_path, quick_mode
from cifar_helpers.environment import check_environment


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("TRUE", True), ("yes", True),
                                                 ("0", False), ("", False), ("off", False)])
def test_quick_mode_values(monkeypatch, value, expected):
    monkeypatch.setenv(QUICK_ENV, value)
    assert quick_mode() is expected


def test_quick_mode_unset(monkeypatch):
    monkeypatch.delenv(QUICK_ENV, raising=False)
    assert quick_mode() is False


def test_quick_mode_rejects_unknown_values(monkeypatch):
    monkeypatch.setenv(QUICK_ENV, "sometimes")
    with pytest.raises(ValueError, match=r"CIFAR_COURSE_QUICK must be one of .*'sometimes'"):
        quick_mode()


def test_model_path_follows_quick_mode(monkeypatch):
    monkeypatch.setenv(QUICK_ENV, "1")
    assert model_path("seed_cnn") == MODELS_DIR / "seed_cnn_quick.keras"
    monkeypatch.setenv(QUICK_ENV, "0")
    assert model_path("seed_cnn") == MODELS_DIR / "seed_cnn.keras"


def test_check_environment_reports_old_and_missing(capsys):
    assert check_environment({"numpy": "0.1"}) is True
    assert check_environment({"numpy": "999.0", "no-such-dist-xyz": "1.0"}) is False
    out = capsys.readouterr().out.splitlines()
    assert out[-2].startswith("[FAIL] numpy") and "upgrade to >= 999.0" in out[-2]
    assert out[-1].startswith("[FAIL] no-such-dist-xyz is not installed")
