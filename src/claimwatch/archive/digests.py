"""SHA-256 digests as WARC headers ("sha256:" + RFC 4648 base32, as warcio and pywb write them)
and as plain lowercase hex (ledger, RecordRef, database)."""

from __future__ import annotations

import base64
import binascii
import hashlib


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def warc_digest(data: bytes) -> str:
    return "sha256:" + base64.b32encode(hashlib.sha256(data).digest()).decode("ascii")


def hex_from_warc_digest(value: str) -> str | None:
    """Hex of a "sha256:<base32|hex|base64>" header value; None if it is not a readable SHA-256."""
    algo, _, enc = value.strip().partition(":")
    if algo.lower().replace("-", "") != "sha256" or not enc:
        return None
    for decode in (lambda s: base64.b32decode(s.upper()), bytes.fromhex, base64.b64decode):
        try:
            raw = decode(enc)
        except (binascii.Error, ValueError):
            continue
        if len(raw) == 32:
            return raw.hex()
    return None


def digest_matches(header_value: str | None, data: bytes) -> bool:
    """Does the WARC digest header describe `data`? (sha1 headers from other tools are checked too.)"""
    if not header_value:
        return False
    algo, _, enc = header_value.strip().partition(":")
    try:
        h = hashlib.new(algo.lower().replace("-", ""), data).digest()
    except ValueError:
        return False
    for decode in (lambda s: base64.b32decode(s.upper()), bytes.fromhex, base64.b64decode):
        try:
            if decode(enc) == h:
                return True
        except (binascii.Error, ValueError):
            continue
    return False
