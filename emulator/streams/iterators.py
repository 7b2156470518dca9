"""Shard iterators as stateless signed tokens: `<StreamArn>|1|<opaque>`.

The opaque part carries the shard, the next sequence number to read and the issue time,
signed with a per-database secret, so the server keeps no per-iterator memory and a
forged or garbled token is recognised.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from dataclasses import dataclass
from random import getrandbits

#: shard_pk, position, issued (ms), and a random nonce: AWS never hands out the same
#: iterator twice, even for the same position within one millisecond.
_PAYLOAD = struct.Struct(">QQQI")
_MAC_BYTES = 16


@dataclass(frozen=True, slots=True)
class IteratorPosition:
    stream_arn: str
    shard_pk: int
    position: int
    issued: float


class InvalidIterator(Exception):
    """The token was not issued by this emulator (or was altered)."""


class IteratorCodec:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, arn: str, payload: bytes) -> bytes:
        return hmac.new(self._secret, arn.encode() + payload, hashlib.sha256).digest()[:_MAC_BYTES]

    def encode(self, stream_arn: str, shard_pk: int, position: int, issued: float) -> str:
        payload = _PAYLOAD.pack(shard_pk, position, int(issued * 1000), getrandbits(32))
        token = base64.b64encode(payload + self._mac(stream_arn, payload)).decode()
        return f"{stream_arn}|1|{token}"

    def decode(self, iterator: str) -> IteratorPosition:
        arn, sep, rest = iterator.rpartition("|1|")
        if not sep or not arn:
            raise InvalidIterator(iterator)
        try:
            raw = base64.b64decode(rest, validate=True)
        except ValueError:
            raise InvalidIterator(iterator) from None
        if len(raw) != _PAYLOAD.size + _MAC_BYTES:
            raise InvalidIterator(iterator)
        payload, mac = raw[: _PAYLOAD.size], raw[_PAYLOAD.size :]
        if not hmac.compare_digest(mac, self._mac(arn, payload)):
            raise InvalidIterator(iterator)
        shard_pk, position, issued_ms, _nonce = _PAYLOAD.unpack(payload)
        return IteratorPosition(arn, shard_pk, position, issued_ms / 1000)
