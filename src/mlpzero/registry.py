"""One lookup for every named component: activations, losses, optimizers, schedules.

Anywhere mlpzero takes a component it accepts a name (``"adam"``), a config dict as
produced by the component's ``config`` property
(``{"name": "adam", "betas": [0.8, 0.999]}``), or an instance, which is returned as it
is. :func:`resolve` is that rule, written once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

__all__ = ["resolve"]

T = TypeVar("T")


def resolve(
    kind: str,
    value: Any,
    base: type[T],
    registry: Mapping[str, type[T]],
    aliases: Mapping[str, str] | None = None,
    /,
    **kwargs: Any,
) -> T:
    """Build the ``kind`` named by ``value`` (a name, a config dict or a ``base`` instance).

    Names are case-insensitive and may be an alias. ``kwargs`` are passed to the class
    (a config dict's entries come first, ``kwargs`` override them); the other arguments
    are positional only, so a setting may have any name. Errors name ``kind`` and echo
    what was received.
    """
    if isinstance(value, base):
        return value
    if isinstance(value, Mapping):
        params = dict(value)
        name = params.pop("name", None)
        if not isinstance(name, str):
            raise TypeError(f"a {kind} config needs a 'name', got {value!r}")
        odd = [key for key in params if not isinstance(key, str)]
        if odd:
            raise TypeError(
                f"a {kind} config's keys are setting names, got {odd[0]!r} in {value!r}"
            )
        return resolve(kind, name, base, registry, aliases, **{**params, **kwargs})
    if not isinstance(value, str):
        raise TypeError(
            f"{kind} must be a name, an instance of {base.__name__} or a config dict, "
            f"got {type(value).__name__} {value!r}"
        )
    key = value.lower()
    key = (aliases or {}).get(key, key)
    if key not in registry:
        known = ", ".join(sorted(registry))
        raise ValueError(f"unknown {kind} {value!r}; expected one of: {known}")
    try:
        return registry[key](**kwargs)
    except TypeError as error:
        raise TypeError(f"{kind} {value!r}: {error}") from None
