"""At start-up (and whenever a project's runs are first listed), offer to resume the runs that
were interrupted: the app went away, the machine rebooted, the process was killed."""
from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMessageBox

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from studio.runs.handle import RunHandle

MAX_LISTED = 8


def ask_to_resume(parent: "QWidget | None", handles: list["RunHandle"]) -> bool:
    """True when the user wants them resumed (each continues from its last checkpoint)."""
    names = "".join(f"<li><b>{html.escape(h.name)}</b> <span style='color:gray'>(epoch {h.epoch}/{h.epochs}, "
                    f"step {h.step})</span></li>" for h in handles[:MAX_LISTED])
    more = f"<p>… and {len(handles) - MAX_LISTED} more.</p>" if len(handles) > MAX_LISTED else ""
    n = len(handles)
    box = QMessageBox(QMessageBox.Icon.Question, "Resume interrupted runs",
                      f"{'A run was' if n == 1 else f'{n} runs were'} interrupted before {'it' if n == 1 else 'they'}"
                      f" finished:<ul>{names}</ul>{more}", QMessageBox.StandardButton.Yes
                      | QMessageBox.StandardButton.No, parent)
    box.setObjectName("resume_offer")
    box.button(QMessageBox.StandardButton.Yes).setText("Resume")
    box.button(QMessageBox.StandardButton.No).setText("Later")
    box.setInformativeText("Each continues from its last checkpoint, one run at a time per device. "
                           "Later: resume them from the Runs panel.")
    box.setDefaultButton(QMessageBox.StandardButton.Yes)
    answer = box.exec()
    box.deleteLater()
    return answer == QMessageBox.StandardButton.Yes
