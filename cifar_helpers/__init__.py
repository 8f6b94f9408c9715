"""Helpers for the CIFAR-10 CNN course.

Importing the package, or any of its modules, changes nothing: no seeding, no
environment variables, no downloads. `cifar_helpers.notebook.setup_notebook`
and the ``cifar-course`` command do the set-up, and say so.
"""
