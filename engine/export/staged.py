"""Write several output files all or nothing: each goes to a temp file beside its target and
only when every one is written and verified are they moved into place (``os.replace``)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


class Staged:
    def __init__(self) -> None:
        self._temps: list[tuple[Path, Path]] = []

    def path_for(self, target: Path) -> Path:
        """A fresh temp path in ``target``'s folder (same file system, so the move is atomic)."""
        # the temp name keeps the suffix: some loaders insist on it (torch.export wants .pt2)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent)
        os.close(fd)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; an export is an ordinary file
        self._temps.append((Path(tmp), target))
        return Path(tmp)

    def commit(self) -> list[Path]:
        for tmp, target in self._temps:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        for tmp, target in self._temps:
            os.replace(tmp, target)
        done = [target for _, target in self._temps]
        self._temps.clear()
        return done

    def discard(self) -> None:
        for tmp, _ in self._temps:
            try:
                tmp.unlink()
            except OSError:
                pass
        self._temps.clear()

    def __enter__(self) -> "Staged":
        return self

    def __exit__(self, *exc) -> None:
        self.discard()  # after commit() there is nothing left to discard


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
