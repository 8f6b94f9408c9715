"""Build a module's Keras classes on first use, so importing the module stays cheap."""

from __future__ import annotations


def lazy_module_getattr(module_name, factories):
    """A module ``__getattr__`` that builds ``factories[name]()`` when `name` is asked for.

    Parameters
    ----------
    module_name : str
        The module's ``__name__``, for the error message.
    factories : dict of str to callable
        Each callable returns the class (``functools.cache`` them, so every
        access returns the same class).

    Examples
    --------
    >>> getter = lazy_module_getattr("demo", {"Answer": lambda: 42})
    >>> getter("Answer")
    42
    >>> getter("Question")
    Traceback (most recent call last):
    ...
    AttributeError: module 'demo' has no attribute 'Question'
    """

    def __getattr__(name):
        if name in factories:
            return factories[name]()
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")

    return __getattr__
