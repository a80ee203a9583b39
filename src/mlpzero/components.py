"""The base of every named component with a few hyper-parameters (activations, losses).

A component declares its registry ``name`` and the names of its constructor arguments in
``hyperparameters``; :class:`Component` derives from them, once for all:

- ``config``: ``{"name": ..., <hyper-parameter>: <value>, ...}``, the dict
  :func:`mlpzero.registry.resolve` rebuilds the component from and model files store;
- ``repr``: ``LeakyReLU(alpha=0.01)``;
- equality: two components are equal when they are of the same class and have the same
  ``config`` (a subclass, or a user's class keeping an inherited name, computes its own
  function), and their hash is the hash of class and config (equal ones hash alike);
- immutability: a hyper-parameter, once set in ``__init__``, cannot be set again nor
  deleted, so a component's hash and what a network planned from it cannot change under
  them.

>>> class Scale(Component):
...     kind = "example"
...     name = "scale"
...     hyperparameters = ("factor",)
...     def __init__(self, factor=2.0):
...         self.factor = factor
>>> Scale(3.0)
Scale(factor=3.0)
>>> Scale(3.0).config
{'name': 'scale', 'factor': 3.0}
>>> Scale(3.0) == Scale(3.0), Scale(3.0) == Scale(2.0)
(True, False)
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = ["Component"]


class Component:
    """A named component whose ``config`` is its name and declared hyper-parameters."""

    #: The family (``"activation"``, ``"loss"``); only components of one family compare.
    kind: ClassVar[str] = "component"
    #: The registry name, as :func:`mlpzero.registry.resolve` knows it.
    name: ClassVar[str] = "component"
    #: Constructor arguments, each kept as the attribute of the same name.
    hyperparameters: ClassVar[tuple[str, ...]] = ()

    @property
    def config(self) -> dict[str, Any]:
        """Everything needed to rebuild the component: its name and hyper-parameters."""
        config: dict[str, Any] = {"name": self.name}
        for key in self.hyperparameters:
            config[key] = getattr(self, key)
        return config

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={getattr(self, key)!r}" for key in self.hyperparameters)
        return f"{type(self).__name__}({args})"

    def __setattr__(self, key: str, value: Any) -> None:
        # A component is a value: it hashes by its hyper-parameters, and a network's
        # compiled kernels are planned from them when the network is made.
        if key in self.hyperparameters and key in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}.{key} is fixed once the {self.kind} is made; "
                f"make a new one, e.g. {type(self).__name__}({key}={value!r})"
            )
        super().__setattr__(key, value)

    def __delattr__(self, key: str) -> None:
        # del then set would change the hyper-parameter all the same
        if key in self.hyperparameters:
            raise AttributeError(
                f"{type(self).__name__}.{key} is fixed once the {self.kind} is made; "
                f"it cannot be deleted"
            )
        super().__delattr__(key)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Component) or other.kind != self.kind:
            return NotImplemented
        return type(other) is type(self) and self.config == other.config

    def __hash__(self) -> int:
        return hash((type(self), _hashable(self.config)))


def _hashable(value: Any) -> Any:
    """``value`` with dicts and lists turned into (sorted) tuples, so that it hashes."""
    if isinstance(value, dict):
        return tuple(sorted((key, _hashable(item)) for key, item in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_hashable(item) for item in value)
    return value
