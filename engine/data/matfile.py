"""A minimal reader of MATLAB 5 ``.mat`` files (numeric arrays only), for SVHN's
``train_32x32.mat`` / ``test_32x32.mat`` without scipy. Arrays come back with MATLAB's
dimensions, like ``scipy.io.loadmat`` (column-major data, read with order="F")."""
from __future__ import annotations

import struct
import zlib

import numpy as np

_MI = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 9: "f8", 12: "i8", 13: "u8"}
_MX = {6: "f8", 7: "f4", 8: "i1", 9: "u1", 10: "i2", 11: "u2", 12: "i4", 13: "u4", 14: "i8", 15: "u8"}
MI_MATRIX, MI_COMPRESSED = 14, 15


class MatFileError(ValueError):
    pass


def read_mat(path: str, names: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
    """Numeric variables of a MATLAB 5 file: {name: array}. ``names`` limits what is decoded."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 128:
        raise MatFileError("too short for a MATLAB file")
    if data[:6] == b"\x89HDF\r\n" or data[512:520] == b"\x89HDF\r\n\x1a\n":
        raise MatFileError("a MATLAB 7.3 (HDF5) file; only MATLAB 5 files are supported")
    endian = {b"IM": "<", b"MI": ">"}.get(data[126:128])
    if endian is None:
        raise MatFileError("not a MATLAB 5 file")
    out: dict[str, np.ndarray] = {}
    pos = 128
    while pos + 8 <= len(data):
        mtype, body, pos = _element(data, pos, endian)
        if mtype == MI_COMPRESSED:
            inner = zlib.decompress(body)
            mtype, body, _ = _element(inner, 0, endian)
        if mtype == MI_MATRIX:
            name, arr = _matrix(body, endian, names)
            if arr is not None:
                out[name] = arr
    return out


def _element(buf: bytes, pos: int, e: str) -> tuple[int, memoryview | bytes, int]:
    """(type, data, position after the element, padding included)."""
    first, = struct.unpack_from(e + "I", buf, pos)
    if first >> 16:  # small data element: type and size share the first word, data in 4 bytes
        mtype, n = first & 0xFFFF, first >> 16
        return mtype, memoryview(buf)[pos + 4:pos + 4 + n], pos + 8
    mtype, n = struct.unpack_from(e + "II", buf, pos)
    start = pos + 8
    if start + n > len(buf):
        raise MatFileError("truncated file")
    end = start + n
    if mtype != MI_COMPRESSED:
        end = start + ((n + 7) // 8) * 8
    return mtype, memoryview(buf)[start:start + n], end


def _matrix(body, e: str, names) -> tuple[str, np.ndarray | None]:
    buf = bytes(body) if not isinstance(body, bytes) else body
    pos = 0
    t, flags, pos = _element(buf, pos, e)
    cls = int(np.frombuffer(flags, e + "u4")[0]) & 0xFF
    t, dims, pos = _element(buf, pos, e)
    shape = tuple(int(d) for d in np.frombuffer(dims, e + _MI[t]))
    t, name, pos = _element(buf, pos, e)
    name = bytes(name).decode("ascii", "replace")
    if cls not in _MX or (names is not None and name not in names):
        return name, None
    t, real, pos = _element(buf, pos, e)
    if t not in _MI:
        raise MatFileError(f"{name}: unsupported data type {t}")
    arr = np.frombuffer(real, e + _MI[t])
    if arr.size != int(np.prod(shape)):
        raise MatFileError(f"{name}: {arr.size} values for dimensions {shape}")
    return name, arr.astype(_MX[cls], copy=False).reshape(shape, order="F")


def write_mat(path: str, arrays: dict[str, np.ndarray], *, compress: bool = True) -> None:
    """Write numeric arrays as a MATLAB 5 file (little-endian). Used to make test fixtures."""
    cls = {np.dtype("f8"): 6, np.dtype("f4"): 7, np.dtype("u1"): 9, np.dtype("i4"): 12}
    mi = {np.dtype("f8"): 9, np.dtype("f4"): 7, np.dtype("u1"): 2, np.dtype("i4"): 5}

    def el(mtype: int, payload: bytes) -> bytes:
        pad = (-len(payload)) % 8
        return struct.pack("<II", mtype, len(payload)) + payload + b"\0" * pad

    header = b"MATLAB 5.0 MAT-file, written by LayerStudio tests".ljust(116, b" ") + b"\0" * 8 + \
        struct.pack("<H", 0x0100) + b"IM"
    parts = [header]
    for name, a in arrays.items():
        a = np.asarray(a)
        body = (el(6, struct.pack("<II", cls[a.dtype], 0)) + el(5, np.asarray(a.shape, "<i4").tobytes())
                + _small_or_el(el, 1, name.encode()) + el(mi[a.dtype], a.astype(a.dtype.newbyteorder("<")).tobytes(order="F")))
        matrix = el(MI_MATRIX, body)
        parts.append(struct.pack("<II", MI_COMPRESSED, len(z := zlib.compress(matrix))) + z if compress else matrix)
    with open(path, "wb") as f:
        f.write(b"".join(parts))


def _small_or_el(el, mtype: int, payload: bytes) -> bytes:
    """MATLAB writes elements of up to 4 bytes (short names) in the compact 8-byte form."""
    if len(payload) <= 4:
        return struct.pack("<I", (len(payload) << 16) | mtype) + payload.ljust(4, b"\0")
    return el(mtype, payload)
