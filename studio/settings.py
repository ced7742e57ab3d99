"""The user's preferences and the app's per-user folders.

Everything persistent about the app (not the project) lives here: recent files, window
layout, preferences and the device-peak table, in one INI file in the user config folder.
Setting ``LAYERSTUDIO_HOME`` puts every per-user folder (config, state, logs, cache) under
one directory: tests, benchmarks and portable installs use it so they never touch the
user's real settings.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import platformdirs
from PySide6.QtCore import QObject, QSettings, Signal

APP = "LayerStudio"
MAX_RECENT = 10


def _home() -> Path | None:
    home = os.environ.get("LAYERSTUDIO_HOME")
    return Path(home) if home else None


def config_dir() -> Path:
    home = _home()
    return home / "config" if home else Path(platformdirs.user_config_dir(APP, APP))


def state_dir() -> Path:
    home = _home()
    return home / "state" if home else Path(platformdirs.user_state_dir(APP, APP))


def log_dir() -> Path:
    home = _home()
    return home / "log" if home else Path(platformdirs.user_log_dir(APP, APP))


def default_cache_dir() -> Path:
    home = _home()
    return home / "cache" if home else Path(platformdirs.user_cache_dir(APP, APP))


def default_data_root() -> Path:
    home = _home()
    return home / "data" if home else Path(platformdirs.user_data_dir(APP, APP)) / "datasets"


class AppSettings(QObject):
    """Typed accessors over one ``QSettings`` INI file; ``changed(key)`` after every write."""

    changed = Signal(str)

    def __init__(self, path: str | os.PathLike | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = Path(path) if path else config_dir() / "layerstudio.ini"
        self._qs = QSettings(str(self.path), QSettings.Format.IniFormat)

    # -- generic ----------------------------------------------------------------------------
    def _get(self, key: str, default: Any, type_: type) -> Any:
        value = self._qs.value(key, None)
        if value is None:
            return default
        try:
            if type_ is bool:
                return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
            return type_(value)
        except (TypeError, ValueError):
            return default

    def _set(self, key: str, value: Any) -> None:
        if value is None:
            self._qs.remove(key)
        else:
            self._qs.setValue(key, value)
        self._qs.sync()
        self.changed.emit(key)

    def _get_json(self, key: str, default: Any) -> Any:
        raw = self._qs.value(key, None)
        if not raw:
            return default
        try:
            return json.loads(str(raw))
        except ValueError:
            return default

    # -- recent files -----------------------------------------------------------------------
    @property
    def recent_files(self) -> list[str]:
        value = self._get_json("files/recent", [])
        return [p for p in value if isinstance(p, str)][:MAX_RECENT] if isinstance(value, list) else []

    def add_recent(self, path: str | os.PathLike) -> None:
        path = str(Path(path).resolve())
        files = [path] + [p for p in self.recent_files if p != path]
        self._set("files/recent", json.dumps(files[:MAX_RECENT]))

    def remove_recent(self, path: str | os.PathLike) -> None:
        files = [p for p in self.recent_files if p != str(path)]
        self._set("files/recent", json.dumps(files))

    def clear_recent(self) -> None:
        self._set("files/recent", json.dumps([]))

    # -- window layout ----------------------------------------------------------------------
    def window_state(self) -> tuple[bytes | None, bytes | None]:
        """(geometry, dock state) saved by the last window that closed."""
        geo, state = self._qs.value("window/geometry"), self._qs.value("window/state")
        return (bytes(geo) if geo else None, bytes(state) if state else None)

    def set_window_state(self, geometry: bytes, state: bytes) -> None:
        self._qs.setValue("window/geometry", geometry)
        self._qs.setValue("window/state", state)
        self._qs.sync()

    def clear_window_state(self) -> None:
        self._qs.remove("window/state")
        self._qs.sync()

    # -- preferences ------------------------------------------------------------------------
    @property
    def data_root(self) -> str:
        return self._get("prefs/data_root", str(default_data_root()), str)

    @data_root.setter
    def data_root(self, value: str) -> None:
        self._set("prefs/data_root", value or None)

    @property
    def cache_dir(self) -> str:
        return self._get("prefs/cache_dir", str(default_cache_dir()), str)

    @cache_dir.setter
    def cache_dir(self, value: str) -> None:
        self._set("prefs/cache_dir", value or None)

    @property
    def default_device(self) -> str:
        return self._get("prefs/default_device", "auto", str)

    @default_device.setter
    def default_device(self, value: str) -> None:
        self._set("prefs/default_device", value or None)

    @property
    def worker_threads(self) -> int:
        """Data-loading workers for training (0: load in the training process itself)."""
        return max(0, min(64, self._get("prefs/worker_threads", min(4, os.cpu_count() or 1), int)))

    @worker_threads.setter
    def worker_threads(self, value: int) -> None:
        self._set("prefs/worker_threads", int(value))

    @property
    def autosave_seconds(self) -> float:
        return max(0.05, self._get("prefs/autosave_seconds", 60.0, float))

    @autosave_seconds.setter
    def autosave_seconds(self, value: float) -> None:
        self._set("prefs/autosave_seconds", float(value))

    @property
    def device_peaks(self) -> list[dict] | None:
        """The user's edited peak table, or None for the built-in one."""
        value = self._get_json("prefs/device_peaks", None)
        return value if isinstance(value, list) else None

    @device_peaks.setter
    def device_peaks(self, rows: list[dict] | None) -> None:
        self._set("prefs/device_peaks", None if rows is None else json.dumps(rows))

    @property
    def roofline_device(self) -> str:
        return self._get("view/roofline_device", "", str)

    @roofline_device.setter
    def roofline_device(self, name: str) -> None:
        self._set("view/roofline_device", name or None)
