"""What every tab of the Explain dock shares: one engine-service call at a time, a progress
bar with Cancel, and an inline message line (the service's own words when the input is bad).

A new request replaces the tab's previous one (which is cancelled: its answer is dropped). A
cancelled or failed request changes nothing but the message line; the result on screen and
any training run are left as they were.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from studio.docks.explain_call import ServiceCall, call
from widgets.style import muted

if TYPE_CHECKING:
    from studio.docks.explain_source import SourcePicker
    from studio.main_window import MainWindow

ERROR_STYLE = "color: #c62828"


class ExplainTab(QWidget):
    answered = Signal(str)  # "done" | "failed" | "cancelled": for tests and the status line

    def __init__(self, window: "MainWindow", source: "SourcePicker") -> None:
        super().__init__()
        self.window_ = window
        self.source = source
        self.call: ServiceCall | None = None
        self.last_payload: dict | None = None
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setObjectName("progress")
        self.progress.setMaximumHeight(14)
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancel")
        self.cancel_button.setToolTip("Stop the computation (nothing else is affected)")
        self.cancel_button.clicked.connect(self.cancel)
        self.busy_row = QWidget()
        row = QHBoxLayout(self.busy_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel_button)
        self.busy_row.hide()
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(6, 6, 6, 6)
        self.layout_.setSpacing(6)

    def add_status(self) -> None:
        """Progress and the message line, under the tab's controls (the subclass places them)."""
        self.layout_.addWidget(self.busy_row)
        self.layout_.addWidget(self.message)

    # -- requests ---------------------------------------------------------------------
    def request(self, kind: str, payload: dict, on_done: Callable[[dict], None], working: str = "",
                show_progress: bool = True) -> ServiceCall:
        if self.call is not None:
            self.call.cancel()  # (nothing when it has answered)
            self.call.deleteLater()  # one call object per tab at a time
        self.last_payload = payload
        self.say(working)
        c = call(self.window_.studio, kind, payload, self)
        self.call = c
        c.done.connect(lambda result: self._done(c, on_done, result))
        c.failed.connect(lambda message, details: self._failed(c, message, details))
        c.cancelled.connect(lambda: self._cancelled(c))
        c.progress.connect(self._progress)
        if show_progress:
            self.progress.setRange(0, 0)  # busy until the first report
            self.busy_row.show()
        self.busy_changed(True)
        return c

    def cancel(self) -> None:
        if self.call is not None and self.call.active:
            self.call.cancel()

    @property
    def busy(self) -> bool:
        return self.call is not None and self.call.active

    def busy_changed(self, busy: bool) -> None:
        """Enable or disable the tab's buttons (subclasses)."""

    def _progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))
            self.progress.setFormat(f"{100 * done // total}%")

    def _end(self, c: ServiceCall) -> bool:
        if c is not self.call:
            return False
        self.busy_row.hide()
        self.busy_changed(False)
        return True

    def _done(self, c: ServiceCall, on_done: Callable[[dict], None], result: dict) -> None:
        if self._end(c):
            self.say("")
            on_done(result)
            self.answered.emit("done")

    def _failed(self, c: ServiceCall, message: str, details: str) -> None:
        if self._end(c):
            self.say(message, error=True, details=details)
            self.answered.emit("failed")

    def _cancelled(self, c: ServiceCall) -> None:
        if self._end(c):
            self.say("Cancelled.")
            self.answered.emit("cancelled")

    def say(self, text: str, error: bool = False, details: str = "") -> None:
        self.message.setStyleSheet(ERROR_STYLE if error else "")
        if not error:
            muted(self.message)
        self.message.setText(text)
        self.message.setToolTip(details[-4000:] if details else "")

    def base_payload(self) -> dict[str, Any]:
        """Run and checkpoint (raises ValueError with what to pick when there is none)."""
        return self.source.run_payload()
