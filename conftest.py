"""Test-session settings shared by unit tests, doctests and nbval.

The notebook kernels nbval starts inherit this process' environment, so setting
the quick switch here makes ``python -m pytest`` run every notebook in quick
mode (a subset, one epoch) unless the caller set CIFAR_COURSE_QUICK already.
"""

import os

os.environ.setdefault("CIFAR_COURSE_QUICK", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
