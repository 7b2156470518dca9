"""ProjectionExpression: which parts of an item a read returns."""

from __future__ import annotations

from collections.abc import Sequence

from emulator.model.expressions import messages as msg
from emulator.model.expressions.context import ExpressionContext
from emulator.model.expressions.nodes import Path
from emulator.model.expressions.paths import DocPath, apply_projection_resolved
from emulator.model.values import Item


def apply_projection(
    item: Item, paths: Sequence[Path | DocPath], ctx: ExpressionContext | None = None
) -> Item:
    """Project ``item`` onto ``paths``, nesting kept (``a.b`` -> ``{"a": {"M": {"b": ...}}}``).

    ``paths`` are either resolved paths (from :meth:`ExpressionContext.resolve_projection`,
    the normal route, which also checks overlaps once per request) or parsed
    :class:`Path` objects, resolved here through ``ctx``. Values are shared with ``item``.
    """
    resolved: list[DocPath] = []
    for path in paths:
        if isinstance(path, Path):
            if ctx is None:
                ctx = ExpressionContext()
            resolved.append(ctx.resolve_path(path, msg.PROJECTION))
        else:
            resolved.append(path)
    return apply_projection_resolved(item, resolved)
