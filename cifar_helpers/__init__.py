"""Helpers for the CIFAR-10 CNN course."""

import os as _os
import platform as _platform

# TensorFlow's oneDNN kernels: on Linux, TensorFlow switches them on by itself only on
# CPUs with AVX512-VNNI, AVX512-BF16, AVX-VNNI or AMX (tensorflow/core/util/port.cc); on
# others (an AVX2-only CPU, or an AVX-512 one without VNNI) it uses slower kernels. With
# them on, the seed model trained 1.5 times faster on a 2-core AVX2-only machine (66 s
# instead of 101-116 s per 50,000-image epoch, `benchmarks/seed_training.py`).
# TensorFlow reads the variable once, when it is imported, so it is set here, before any
# helper imports TensorFlow. `TF_ENABLE_ONEDNN_OPTS=0` in the environment still wins, and
# other architectures (ARM) keep TensorFlow's own choice.
if _platform.machine().lower() in ("x86_64", "amd64"):
    _os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
