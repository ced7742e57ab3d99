"""The message codec between the app and the engine processes: JSON plus raw numpy buffers.

No pickle: decoding never imports or runs code (the GUI process stays free of torch and safe
from a confused child). A message is a dict of JSON values and numpy arrays, in one frame:

    u32 frame length | u32 JSON length | JSON | array bytes...

Arrays are replaced in the JSON by {"__nd__": [index, dtype, shape]} and their C-ordered bytes
follow the JSON in index order.
"""
from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np

HEADER = struct.Struct("!II")
MAX_FRAME = 1 << 30
_ND = "__nd__"


class ProtocolError(Exception):
    """A frame that cannot be decoded (the peer is not speaking this protocol)."""


def encode(msg: dict[str, Any]) -> bytes:
    buffers: list[bytes] = []

    def conv(v: Any) -> Any:
        if isinstance(v, np.ndarray):
            a = np.ascontiguousarray(v)
            if a.dtype.kind not in "biuf":
                raise TypeError(f"cannot send an array of dtype {a.dtype}")
            buffers.append(a.tobytes())
            return {_ND: [len(buffers) - 1, a.dtype.str, list(a.shape)]}
        if isinstance(v, dict):
            return {str(k): conv(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [conv(x) for x in v]
        if isinstance(v, np.generic):
            return v.item()
        return v

    text = json.dumps(conv(msg), separators=(",", ":"), allow_nan=True).encode("utf-8")
    body = b"".join(buffers)
    return HEADER.pack(4 + len(text) + len(body), len(text)) + text + body


def decode_body(body: bytes, json_len: int) -> dict[str, Any]:
    try:
        obj = json.loads(body[:json_len].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ProtocolError(f"bad message: {e}") from None
    if not isinstance(obj, dict):
        raise ProtocolError("bad message: not an object")
    blobs = memoryview(body)[json_len:]
    specs: dict[int, tuple[np.dtype, tuple[int, ...]]] = {}

    def collect(v: Any) -> None:  # first pass: every array's dtype and shape, by index
        if isinstance(v, dict):
            if _ND in v and len(v) == 1:
                try:
                    idx, dtype, shape = v[_ND]
                    specs[int(idx)] = (np.dtype(dtype), tuple(int(d) for d in shape))
                except (TypeError, ValueError) as e:
                    raise ProtocolError(f"bad array header {v[_ND]!r}: {e}") from None
            else:
                for x in v.values():
                    collect(x)
        elif isinstance(v, list):
            for x in v:
                collect(x)

    collect(obj)
    offsets, pos = {}, 0
    for i in range(len(specs)):
        if i not in specs:
            raise ProtocolError("bad message: array indices are not contiguous")
        dtype, shape = specs[i]
        n = dtype.itemsize * int(np.prod(shape, dtype=np.int64))
        offsets[i] = (pos, n)
        pos += n
    if pos != len(blobs):
        raise ProtocolError("bad message: array bytes do not match their shapes")

    def conv(v: Any) -> Any:  # second pass: arrays in place of their headers
        if isinstance(v, dict):
            if _ND in v and len(v) == 1:
                i = int(v[_ND][0])
                dtype, shape = specs[i]
                start, n = offsets[i]
                return np.frombuffer(blobs[start:start + n], dtype=dtype).reshape(shape).copy()
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, list):
            return [conv(x) for x in v]
        return v

    return conv(obj)


class FrameBuffer:
    """Incremental decoder: ``feed`` bytes as they arrive, get the complete messages."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        self._buf += data
        out = []
        while len(self._buf) >= 4:
            (length,) = struct.unpack_from("!I", self._buf)
            if length > MAX_FRAME or length < 4:
                raise ProtocolError(f"bad frame length {length}")
            if len(self._buf) < 4 + length:
                break
            (json_len,) = struct.unpack_from("!I", self._buf, 4)
            body = bytes(self._buf[8:4 + length])
            del self._buf[:4 + length]
            out.append(decode_body(body, json_len))
        return out

    @property
    def pending(self) -> int:
        return len(self._buf)
