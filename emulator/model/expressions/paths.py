"""Resolved document paths: lookup in items, and AWS-shaped projections.

A resolved path (:data:`DocPath`) is a tuple of attribute names (str) and list indexes
(int), with placeholders already substituted; ``("a", "b", 3)`` is ``a.b[3]``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from emulator.model.values import AttributeValue, Item

DocPath = tuple[str | int, ...]


def get_path(item: Item, path: DocPath) -> AttributeValue | None:
    """The value at ``path``, or None when any step is missing or of the wrong type."""
    first = path[0]
    if not isinstance(first, str):
        return None
    current = item.get(first)
    for element in path[1:]:
        if current is None:
            return None
        if isinstance(element, int):
            elements = current.get("L")
            if elements is None or element >= len(elements):
                return None
            current = elements[element]
        else:
            members = current.get("M")
            if members is None:
                return None
            current = members.get(element)
    return current


def paths_overlap_or_conflict(one: DocPath, two: DocPath) -> str | None:
    """``"overlap"`` if one path is a prefix of the other, ``"conflict"`` if they reach
    the same container but one indexes it as a list and the other as a map, else None."""
    for a, b in zip(one, two, strict=False):
        if a == b and type(a) is type(b):
            continue
        if isinstance(a, int) != isinstance(b, int):
            return "conflict"
        return None
    return "overlap"


class _Node:
    """Builder for a projected container: map members or list elements by index."""

    __slots__ = ("children", "is_list")

    def __init__(self, is_list: bool) -> None:
        self.is_list = is_list
        self.children: dict[Any, _Node | AttributeValue] = {}

    def to_value(self) -> AttributeValue:
        def convert(child: _Node | AttributeValue) -> AttributeValue:
            return child.to_value() if isinstance(child, _Node) else child

        if self.is_list:
            return {"L": [convert(self.children[i]) for i in sorted(self.children)]}
        return {"M": {name: convert(child) for name, child in self.children.items()}}


def apply_projection_resolved(item: Item, paths: Iterable[DocPath]) -> Item:
    """Project ``item`` onto resolved paths, keeping the nesting as AWS does.

    ``a.b`` gives ``{"a": {"M": {"b": ...}}}`` and ``l[1]`` gives ``{"l": {"L": [elem]}}``
    (list elements keep their relative order; their indexes are not preserved). Paths
    that do not resolve contribute nothing. Values are shared with ``item``.
    """
    root = _Node(is_list=False)
    for path in paths:
        value = get_path(item, path)
        if value is None:
            continue
        node = root
        for position, element in enumerate(path):
            if position == len(path) - 1:
                node.children[element] = value
                break
            child = node.children.get(element)
            if not isinstance(child, _Node):
                if child is not None:  # a shorter path already took the whole value
                    break
                child = _Node(is_list=isinstance(path[position + 1], int))
                node.children[element] = child
            node = child
    return {
        str(name): (c.to_value() if isinstance(c, _Node) else c)
        for name, c in root.children.items()
    }
