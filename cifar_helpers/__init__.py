"""Helpers for the CIFAR-10 CNN course."""

import os as _os

# TensorFlow's oneDNN kernels: TensorFlow switches them on by itself only on CPUs with
# AVX-512 (VNNI, BF16 or AMX); on an AVX2-only CPU it falls back to slower kernels. With
# them on, the seed model trained 1.5 times faster on a 2-core AVX2 machine (66 s
# instead of 101-114 s per 50,000-image epoch, `benchmarks/seed_training.py`). The
# variable is read once, when TensorFlow is imported, so it is set here, before any
# helper imports TensorFlow; `TF_ENABLE_ONEDNN_OPTS=0` in the environment still wins.
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
