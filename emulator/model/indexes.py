"""Secondary indexes: which items an index holds, under which key, with which attributes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emulator.errors import ValidationException
from emulator.model.keys import (
    HASH_KEY_MAX_BYTES,
    RANGE_KEY_MAX_BYTES,
    KeySchema,
    encode_key_av,
)
from emulator.model.values import AttributeValue, Item, decode_binary

_INVALID = "One or more parameter values were invalid: "
#: A key text of at most this many characters is within every key size limit (a UTF-8
#: character is at most 4 bytes; base64 text is longer than the bytes it holds).
_SMALLEST_LIMIT_CHARS = RANGE_KEY_MAX_BYTES // 4


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
        """AWS rejects a write whose index key attribute has the wrong type, is empty, or
        is larger than a key may be (2,048 bytes for a HASH, 1,024 for a RANGE attribute,
        each attribute of a multi-attribute key on its own)."""
        key = self.key
        for name in key.names:
            value = item.get(name)
            if value is None:
                continue
            expected = key.type_of(name)
            actual = next(iter(value))
            if actual != expected:
                raise ValidationException(
                    _INVALID + f"Type mismatch for Index Key {name} Expected: {expected} "
                    f"Actual: {actual} IndexName: {self.name}"
                )
            text = value[actual]
            if text == "":
                raise ValidationException(
                    "One or more parameter values are not valid. A value specified for a "
                    "secondary index key is not supported. The AttributeValue for a key "
                    f"attribute cannot contain an empty {'string' if actual == 'S' else 'binary'}"
                    f" value. IndexName: {self.name}, IndexKey: {name}"
                )
            if actual != "N" and len(text) > _SMALLEST_LIMIT_CHARS:
                self._check_size(name, actual, text)

    def _check_size(self, name: str, kind: str, text: str) -> None:
        """AWS's answer, as its users report it (e.g. architect/dynalite issue 35,
        wellcomecollection/platform issue 2285): "Size limit exceeded for Index Key c
        Actual Size: 43398 bytes Max Size: 2048 bytes IndexName: index4" (a HASH
        attribute; 1024 for a RANGE one)."""
        size = len(text.encode("utf-8")) if kind == "S" else len(decode_binary(text))
        limit = HASH_KEY_MAX_BYTES if self.key.is_hash(name) else RANGE_KEY_MAX_BYTES
        if size > limit:
            raise ValidationException(
                _INVALID + f"Size limit exceeded for Index Key {name} Actual Size: {size} "
                f"bytes Max Size: {limit} bytes IndexName: {self.name}"
            )

    def entry_key(self, item: Item) -> tuple[bytes, bytes] | None:
        """The (hash, range) storage key of the item's index entry; None if the item is
        not in this (sparse) index.

        A value of another type than the index key's, an empty one or one over the key
        size limits is not indexed either: writes reject such items (`check_item`), but a
        GSI added later skips them on backfill, as AWS does (index key violations). An
        item is in a multi-attribute index only with every one of its key attributes
        ("items missing any GSI key attribute are not indexed").
        """
        key = self.key
        if key.multi:
            return self._multi_entry_key(item)
        hash_value = item.get(key.hash_name)
        if hash_value is None:
            return None
        hash_text = hash_value.get(key.hash_type)
        if not hash_text:
            return None
        if len(hash_text) > _SMALLEST_LIMIT_CHARS and self._oversized(
            key.hash_name, key.hash_type, hash_value
        ):
            return None
        if key.range_name is None:
            return encode_key_av(hash_value), b""
        range_value = item.get(key.range_name)
        if range_value is None:
            return None
        range_text = range_value.get(str(key.range_type))
        if not range_text:
            return None
        if len(range_text) > _SMALLEST_LIMIT_CHARS and self._oversized(
            key.range_name, str(key.range_type), range_value
        ):
            return None
        return encode_key_av(hash_value), encode_key_av(range_value)

    def _multi_entry_key(self, item: Item) -> tuple[bytes, bytes] | None:
        key = self.key
        hash_values = self._values(key.hash_attributes, item)
        range_values = self._values(key.range_attributes, item)
        if hash_values is None or range_values is None:
            return None
        return key.encode_hash(hash_values), key.encode_range(range_values)

    def _values(
        self, attributes: tuple[tuple[str, str], ...], item: Item
    ) -> list[AttributeValue] | None:
        """The item's values of `attributes`, or None when one is missing or unindexable."""
        values = []
        for name, kind in attributes:
            value = item.get(name)
            if value is None or value.get(kind) in (None, "") or self._oversized(name, kind, value):
                return None
            values.append(value)
        return values

    def _oversized(self, name: str, kind: str, value: AttributeValue) -> bool:
        if kind == "N" or len(value[kind]) <= _SMALLEST_LIMIT_CHARS:
            return False
        try:
            self._check_size(name, kind, value[kind])
        except ValidationException:
            return True
        return False

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
