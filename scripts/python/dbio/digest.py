"""The Rust binaries' order-independent digest (crates/model/src/digest.rs):
per row, FNV-1a 64 over each value's text form (1, its length as 8 bytes
little-endian, the bytes; NULL is one 0 byte), finished by SplitMix64's
mixer; rows summed modulo 2^64. PyMySQL converts values to Python types:
the digest turns them back into the text the server sent.

Pure Python costs about a microsecond per byte, so it is computed only with
--digests (the tests' check that both languages return the same rows),
never in a run whose times are reported."""

import datetime

from dbio.splitmix import MASK, mix

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3


def text_of(value):
    """The MySQL text-protocol form of a value PyMySQL converted."""
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ").encode()
    if isinstance(value, datetime.date):
        return value.isoformat().encode()
    return str(value).encode()


def row_hash(values):
    h = FNV_OFFSET

    def feed(data):
        nonlocal h
        for byte in data:
            h = ((h ^ byte) * FNV_PRIME) & MASK

    for value in values:
        text = text_of(value)
        if text is None:
            feed(b"\0")
        else:
            feed(b"\1")
            feed(len(text).to_bytes(8, "little"))
            feed(text)
    return mix(h)


def digest(rows):
    return f"{sum(row_hash(r) for r in rows) & MASK:016x}"
