"""Secondary indexes: which items an index holds, under which key, with which attributes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emulator.errors import ValidationException
from emulator.model.keys import KeySchema, encode_key_av
from emulator.model.values import Item

_INVALID = "One or more parameter values were invalid: "


@dataclass(frozen=True, slots=True)
class IndexSchema:
    """One GSI or LSI of a table, as the write and read paths need it."""

    name: str
    index_id: int
    is_global: bool
    key: KeySchema
    table_key: KeySchema
    projection_type: str
    non_key_attributes: tuple[str, ...] = ()

    @classmethod
    def from_description(
        cls,
        description: dict[str, Any],
        index_id: int,
        is_global: bool,
        definitions: list[dict[str, str]],
        table_key: KeySchema,
    ) -> IndexSchema:
        projection = description.get("Projection") or {}
        return cls(
            name=description["IndexName"],
            index_id=index_id,
            is_global=is_global,
            key=KeySchema.from_definitions(description["KeySchema"], definitions),
            table_key=table_key,
            projection_type=projection.get("ProjectionType", "ALL"),
            non_key_attributes=tuple(projection.get("NonKeyAttributes") or ()),
        )

    @property
    def key_names(self) -> tuple[str, ...]:
        """Index and table key attributes: always part of a projected item."""
        names = list(self.key.names)
        names.extend(n for n in self.table_key.names if n not in names)
        return tuple(names)

    def check_item(self, item: Item) -> None:
        """AWS rejects a write whose index key attribute has the wrong type or is empty."""
        for name in self.key.names:
            value = item.get(name)
            if value is None:
                continue
            expected = self.key.type_of(name)
            actual = next(iter(value))
            if actual != expected:
                raise ValidationException(
                    _INVALID + f"Type mismatch for Index Key {name} Expected: {expected} "
                    f"Actual: {actual} IndexName: {self.name}"
                )
            if value[actual] == "":
                raise ValidationException(
                    "One or more parameter values are not valid. A value specified for a "
                    "secondary index key is not supported. The AttributeValue for a key "
                    f"attribute cannot contain an empty {'string' if actual == 'S' else 'binary'}"
                    f" value. IndexName: {self.name}, IndexKey: {name}"
                )

    def entry_key(self, item: Item) -> tuple[bytes, bytes] | None:
        """The (hash, range) storage key of the item's index entry; None if the item is
        not in this (sparse) index.

        A value of another type than the index key's, or an empty one, is not indexed
        either: writes reject such items (`check_item`), but a GSI added later skips them
        on backfill, as AWS does (index key violations).
        """
        key = self.key
        hash_value = item.get(key.hash_name)
        if hash_value is None or hash_value.get(key.hash_type) in (None, ""):
            return None
        if key.range_name is None:
            return encode_key_av(hash_value), b""
        range_value = item.get(key.range_name)
        if range_value is None or range_value.get(str(key.range_type)) in (None, ""):
            return None
        return encode_key_av(hash_value), encode_key_av(range_value)

    def project(self, item: Item) -> Item:
        if self.projection_type == "ALL":
            return item
        keep = set(self.key_names)
        if self.projection_type == "INCLUDE":
            keep.update(self.non_key_attributes)
        return {name: value for name, value in item.items() if name in keep}

    def projects(self, attribute: str) -> bool:
        if self.projection_type == "ALL":
            return True
        return attribute in self.key_names or (
            self.projection_type == "INCLUDE" and attribute in self.non_key_attributes
        )


def check_index_keys(indexes: tuple[IndexSchema, ...], item: Item) -> None:
    """Reject an item whose secondary-index key attributes have the wrong type."""
    for index in indexes:
        index.check_item(item)
