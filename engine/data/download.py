"""Downloads of torchvision datasets: urllib with a timeout, progress, an MD5 check, written to
a temporary name and renamed (an interrupted download never leaves a half file behind)."""
from __future__ import annotations

import hashlib
import os
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

TIMEOUT_S = 20
_CHUNK = 1 << 20


class DownloadFailed(Exception):
    pass


def fetch(urls: list[str], dest: Path, md5: str | None,
          progress: Callable[[int, int, str], None] | None = None) -> Path:
    """Download the first URL that works into ``dest``; raises DownloadFailed with every reason."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for url in urls:
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT_S) as r, open(tmp, "wb") as f:
                total = int(r.headers.get("Content-Length") or 0)
                done, h = 0, hashlib.md5()
                while chunk := r.read(_CHUNK):
                    f.write(chunk)
                    h.update(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total, f"Downloading {dest.name}")
            if md5 and h.hexdigest() != md5:
                raise DownloadFailed(f"{url}: checksum mismatch (a corrupt or changed file)")
            os.replace(tmp, dest)
            return dest
        except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, OSError,
                DownloadFailed, ValueError) as e:
            errors.append(f"{url}: {getattr(e, 'reason', None) or e}")
        finally:
            if tmp.exists():
                tmp.unlink()
    raise DownloadFailed("; ".join(errors))


def md5_of(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()
