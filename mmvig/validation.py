"""Argument checks shared by the ops and the models.

Each check raises a ``ValueError`` (``TypeError`` for a wrong type) whose
message names who asked, the argument, the value it got and what is valid,
so that a wrong config fails when the model is built, not deep inside a
forward pass.
"""
import numbers


def _prefix(owner):
    return f'{owner}: ' if owner else ''


def check_int(name, value, minimum=1, *, owner=None):
    """``value`` must be an int ``>= minimum``. Returns it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f'{_prefix(owner)}{name} must be an integer >= '
                        f'{minimum}, got {value!r}')
    if value < minimum:
        raise ValueError(f'{_prefix(owner)}{name} must be an integer >= '
                         f'{minimum}, got {value}')
    return int(value)


def check_ints(name, values, minimum=1, *, length=None, owner=None):
    """``values`` must be a non-empty sequence of ints ``>= minimum`` (of
    ``length`` entries when given). Returns it as a list."""
    if isinstance(values, (str, bytes)) or not hasattr(values, '__len__'):
        raise TypeError(f'{_prefix(owner)}{name} must be a sequence of '
                        f'integers, got {values!r}')
    values = list(values)
    if length is None and not values:
        raise ValueError(f'{_prefix(owner)}{name} must have at least one '
                         f'entry, got {values}')
    if length is not None and len(values) != length:
        raise ValueError(
            f'{_prefix(owner)}{name} must have {length} '
            f'entr{"y" if length == 1 else "ies"} (one per stage), got '
            f'{values}')
    for i, value in enumerate(values):
        check_int(f'{name}[{i}]', value, minimum, owner=owner)
    return values


def check_range(name, value, low, high, *, high_open=False, owner=None):
    """``value`` must be a real number in ``[low, high]`` (``[low, high)``
    with ``high_open``). Returns it as a float."""
    interval = f'[{low}, {high}{")" if high_open else "]"}'
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f'{_prefix(owner)}{name} must be a number in '
                        f'{interval}, got {value!r}')
    if not (low <= value < high if high_open else low <= value <= high):
        raise ValueError(f'{_prefix(owner)}{name} must be in {interval}, '
                         f'got {value}')
    return float(value)


def check_chunk_bytes(name, value, *, owner=None):
    """A memory bound in bytes: a positive int, or ``None`` (no bound)."""
    return None if value is None else check_int(name, value, 1, owner=owner)


def check_divisible(name, value, divisor, reason, *, owner=None):
    """``value`` must be a multiple of ``divisor``; ``reason`` says who
    needs it."""
    if value % divisor:
        raise ValueError(
            f'{_prefix(owner)}{name} must be divisible by {divisor} '
            f'({reason}), got {value}')
    return value
