"""A run that failed says so without stopping the user: a non-modal message with what happened,
what to try, and "Copy details" (the run, the failure, the traceback) — studio.error_dialog's
dialog, opened beside the work instead of over it."""
from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt

from studio.error_dialog import ErrorDialog, details_for

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from studio.runs.handle import RunHandle

KIND_TITLES = {"oom": "Out of memory", "nonfinite": "Training diverged", "signal": "Training process killed",
               "killed": "Training process killed", "invalid": "Cannot train", "lost": "Training process lost",
               "checkpoint_write": "Checkpoint not written"}


def failure_details(handle: "RunHandle", failure: dict) -> str:
    lines = [f"Run: {handle.name}", f"Run directory: {handle.run_dir or '(not created)'}",
             f"Failure: {failure.get('kind')}: {failure.get('message')}"]
    for key in ("advice", "step", "checkpoint", "node", "key"):
        if failure.get(key) not in (None, ""):
            lines.append(f"{key.capitalize()}: {failure[key]}")
    if failure.get("details"):
        lines += ["", str(failure["details"]).rstrip()]
    return "\n".join(lines) + "\n\n" + details_for(None, f"training run {handle.name}")


def show_failure(parent: "QWidget | None", handle: "RunHandle", failure: dict) -> ErrorDialog:
    title = KIND_TITLES.get(str(failure.get("kind")), "Run failed")
    message = (f"<b>{html.escape(handle.name)}</b> stopped: {html.escape(str(failure.get('message', '')))}")
    if failure.get("advice"):
        message += f"<br><br>{html.escape(str(failure['advice']))}"
    if handle.run_dir is not None and failure.get("kind") != "invalid":
        message += "<br><br>Select the run in the Runs panel to resume it from its last checkpoint."
    dialog = ErrorDialog(parent, title, message, failure_details(handle, failure))
    dialog.setObjectName("run_failure")
    dialog.setWindowModality(Qt.WindowModality.NonModal)  # the app stays fully usable
    dialog.show()
    return dialog
