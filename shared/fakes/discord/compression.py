"""Transport compression of gateway frames: zlib-stream, zstd-stream, or none.

hikari chooses zstd-stream when ``backports.zstd`` (or Python 3.14's ``compression.zstd``) is
importable and zlib-stream otherwise; it cannot be told which. So the fake reads the
``compress`` query parameter and speaks whichever the client asked for.
"""

from __future__ import annotations

import importlib
import zlib
from typing import Any, Protocol

__all__ = ["Compressor", "UnsupportedCompression", "compressor_for"]


class UnsupportedCompression(ValueError):
    pass


class Compressor(Protocol):
    def frame(self, data: bytes) -> bytes: ...


class ZlibStream:
    """One zlib context per connection; each payload ends on a sync flush (``00 00 ff ff``)."""

    def __init__(self) -> None:
        self._context = zlib.compressobj()

    def frame(self, data: bytes) -> bytes:
        return self._context.compress(data) + self._context.flush(zlib.Z_SYNC_FLUSH)


class ZstdStream:
    def __init__(self) -> None:
        self._zstd = _zstd_module()
        self._context = self._zstd.ZstdCompressor()

    def frame(self, data: bytes) -> bytes:
        flush_block = self._zstd.ZstdCompressor.FLUSH_BLOCK
        return bytes(self._context.compress(data, mode=flush_block))


def _zstd_module() -> Any:
    for name in ("compression.zstd", "backports.zstd"):
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError:
            continue
    raise UnsupportedCompression("zstd-stream needs backports.zstd (hikari[zstd])")


def compressor_for(name: str | None) -> Compressor | None:
    """The compressor for a ``compress`` query value; None means plain TEXT frames."""
    if name is None:
        return None
    if name == "zlib-stream":
        return ZlibStream()
    if name == "zstd-stream":
        return ZstdStream()
    raise UnsupportedCompression(f"unsupported gateway compression {name!r}")
