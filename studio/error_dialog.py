"""Error messages the user understands, with the technical text one click away.

Every error box in the app is an ``ErrorDialog``: the message in plain words, and a
"Copy details" button that puts what a bug report needs (versions, the error's type, node
and key, the traceback, the log file's path) on the clipboard. Dialogs open window-modal
without blocking (``open``), so the event loop, autosave and the engine keep running.
"""
from __future__ import annotations

import logging
import platform
import sys
import traceback
from types import TracebackType

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QApplication, QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QPushButton,
                               QStyle, QVBoxLayout, QWidget)

from engine.errors import LayerStudioError

log = logging.getLogger("studio.errors")


def details_for(exc: BaseException | None = None, context: str = "") -> str:
    """The technical text of a bug report for ``exc`` (or for a message without one)."""
    from studio import app_log  # late: app_log installs Qt handlers on import only when set up
    lines = [f"LayerStudio {_version()}", f"Python {sys.version.split()[0]} on {platform.platform()}",
             f"Qt {qVersion()}, PySide6 {pyside_version}"]
    if context:
        lines.append(f"While: {context}")
    if exc is not None:
        lines.append(f"Error: {type(exc).__module__}.{type(exc).__qualname__}: {exc}")
        if isinstance(exc, LayerStudioError) and (exc.node or exc.key):
            lines.append(f"Node: {exc.node}  Key: {exc.key}")
        if exc.__traceback__ is not None:
            lines.append("")
            lines.extend(s.rstrip("\n") for s in traceback.format_exception(type(exc), exc, exc.__traceback__))
    lines.append(f"Log: {app_log.log_file()}")
    return "\n".join(lines)


def _version() -> str:
    try:
        from importlib.metadata import version
        return version("layerstudio")
    except Exception:  # running from a source checkout
        return "(source)"


class ErrorDialog(QDialog):
    """A message with an icon, OK, and "Copy details" (which copies and keeps the box open)."""

    def __init__(self, parent: QWidget | None, title: str, message: str, details: str,
                 severity: str = "error") -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.details = details
        icon = QLabel()
        pix = {"error": QStyle.StandardPixmap.SP_MessageBoxCritical,
               "warning": QStyle.StandardPixmap.SP_MessageBoxWarning}.get(
            severity, QStyle.StandardPixmap.SP_MessageBoxInformation)
        icon.setPixmap(self.style().standardIcon(pix).pixmap(40, 40))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.message_label = QLabel(message)
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_label.setMinimumWidth(360)
        body = QHBoxLayout()
        body.addWidget(icon)
        body.addSpacing(8)
        body.addWidget(self.message_label, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        self.copy_button = QPushButton("Copy details")
        self.copy_button.setToolTip("Copy the technical details (versions, error, traceback) for a bug report")
        # ActionRole: copying does not close the dialog
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy_details)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addLayout(body)
        layout.addWidget(buttons)

    def copy_details(self) -> None:
        QGuiApplication.clipboard().setText(self.details)
        self.copy_button.setText("Copied")


def show_error(parent: QWidget | None, title: str, message: str, exc: BaseException | None = None,
               context: str = "", severity: str = "error") -> ErrorDialog:
    """Log the error and show it without blocking. Returns the (already open) dialog."""
    if exc is not None and not isinstance(exc, LayerStudioError):
        log.error("%s: %s", context or title, message, exc_info=(type(exc), exc, exc.__traceback__))
    else:
        log.warning("%s: %s", context or title, message)
    dialog = ErrorDialog(parent, title, message, details_for(exc, context or title), severity)
    dialog.open()
    return dialog


def install_excepthook() -> None:
    """An unexpected exception in a slot becomes a logged, polite dialog instead of a dead app."""
    def hook(type_: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(type_, KeyboardInterrupt):
            sys.__excepthook__(type_, exc, tb)
            return
        exc.__traceback__ = tb
        app = QApplication.instance()
        parent = app.activeWindow() if app is not None else None
        if isinstance(exc, LayerStudioError):
            show_error(parent, "LayerStudio", exc.message, exc)
        else:
            show_error(parent, "Unexpected error",
                       "Something went wrong inside LayerStudio. Your project is still open; saving it "
                       "now is a good idea. Use “Copy details” to report the problem.", exc,
                       context="unexpected exception")
    sys.excepthook = hook
