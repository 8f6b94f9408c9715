"""Helpers for the CIFAR-10 CNN course."""
