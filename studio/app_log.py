"""The app's log file: a rotating file in the user log folder.

Everything the app logs (and Qt's own warnings, and uncaught exceptions) lands in
``layerstudio.log`` so a bug report can include it; Help → Show Log Folder opens it.
"""
from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from PySide6.QtCore import QtMsgType, qInstallMessageHandler

from studio import settings

LOG_NAME = "layerstudio.log"
_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

log = logging.getLogger("studio")
_handler: logging.Handler | None = None


def log_file() -> Path:
    return settings.log_dir() / LOG_NAME


def setup(directory: Path | None = None, level: int = logging.INFO) -> Path:
    """Send the ``studio`` and ``engine`` loggers to a rotating file; returns its path.

    Idempotent: a second call moves the handler to the new folder.
    """
    global _handler
    directory = Path(directory) if directory else settings.log_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / LOG_NAME
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter(_FORMAT))
    for name in ("studio", "engine", "widgets"):
        logger = logging.getLogger(name)
        if _handler is not None:
            logger.removeHandler(_handler)
        logger.addHandler(handler)
        logger.setLevel(level)
    if _handler is not None:
        _handler.close()
    _handler = handler
    qInstallMessageHandler(_qt_message)
    return path


def shutdown() -> None:
    """Detach and close the file (tests; the app's exit)."""
    global _handler
    if _handler is None:
        return
    for name in ("studio", "engine", "widgets"):
        logging.getLogger(name).removeHandler(_handler)
    _handler.close()
    _handler = None
    qInstallMessageHandler(None)


_QT_LEVELS = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
              QtMsgType.QtWarningMsg: logging.WARNING, QtMsgType.QtCriticalMsg: logging.ERROR,
              QtMsgType.QtFatalMsg: logging.CRITICAL}


def _qt_message(mode, context, message) -> None:
    logging.getLogger("studio.qt").log(_QT_LEVELS.get(mode, logging.WARNING), message)
    if mode in (QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg):
        print(message, file=sys.stderr)
