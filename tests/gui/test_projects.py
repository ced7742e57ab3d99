"""Projects and windows: save/open, the modified marker, the unsaved-changes prompt, bad
files, recent files, templates, autosave and crash recovery, preferences, log and errors."""
from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox

from studio import recovery
from test_window_fixtures import (ROOT, SAMPLE, answer, close_dialogs, error_dialogs, home, no_torch,  # noqa: F401
                                  open_window, settle, studio, window)

TEMPLATES = ROOT / "assets" / "templates"


def save_as(window, monkeypatch, path: Path) -> bool:
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(path), "")))
    return window.save_as()


def open_in(window, qtbot, path: Path) -> None:
    with qtbot.waitSignal(window.document_changed, timeout=5000):
        window.open_file(path)


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_save_then_open_round_trips_and_tracks_the_modified_marker(studio, window, open_window, qtbot,
                                                                    monkeypatch, tmp_path):
    doc = window.document
    assert not window.isWindowModified() and "sample.json" in window.windowTitle()
    doc.set_params("fc3", {"out_features": 10})
    doc.set_label("conv1", "first conv")
    doc.set_setting("training", "epochs", 7)
    assert window.isWindowModified() and "[*]" in window.windowTitle()
    target = tmp_path / "mine.json"
    assert save_as(window, monkeypatch, target)
    assert not window.isWindowModified() and window.windowTitle().startswith("mine.json")
    assert str(target.resolve()) == studio.settings.recent_files[0]
    assert json.loads(target.read_text())["graph"] == doc.to_dict()["graph"]

    other = open_window(None)
    open_in(other, qtbot, target)
    assert other.document.to_dict() == doc.to_dict()
    assert other.document.path == target and not other.isWindowModified()
    recent = [a.text() for a in other.recent_menu.actions()]
    assert any("mine.json" in t for t in recent)
    # Ctrl+S on a document with a path saves in place, no dialog
    other.document.set_params("fc3", {"out_features": 3})
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: ("", "")))
    other.actions_["save"].trigger()
    assert json.loads(target.read_text())["graph"]["nodes"][-1]["params"] == {"out_features": 3}


def test_unsaved_changes_prompt_save_discard_cancel(studio, window, qtbot, monkeypatch, tmp_path):
    doc = window.document
    doc.set_params("fc3", {"out_features": 12})
    asked: list[str] = []
    answer(monkeypatch, QMessageBox.StandardButton.Cancel, asked)
    assert not window.close()
    assert asked and "sample.json" in asked[0] and window in studio.windows and window.isVisible()

    # Save on an untitled document asks where; cancelling that dialog keeps the window too
    answer(monkeypatch, QMessageBox.StandardButton.Save, asked)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: ("", "")))
    doc.path = None
    assert not window.close()
    target = tmp_path / "saved.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), "")))
    assert window.close()
    assert json.loads(target.read_text())["graph"]["nodes"][-1]["params"] == {"out_features": 12}
    assert window not in studio.windows


def test_discard_closes_without_saving(studio, window, monkeypatch):
    window.document.set_params("fc3", {"out_features": 10})
    answer(monkeypatch, QMessageBox.StandardButton.Discard)
    assert window.close()
    assert json.loads(SAMPLE.read_text())["graph"]["nodes"][-1]["params"] == {"out_features": 6}


def test_opening_a_bad_file_shows_the_error_and_keeps_the_project(studio, window, qtbot, tmp_path):
    doc = window.document
    doc.set_params("fc3", {"out_features": 10})
    before = doc.to_dict()
    cases = {"broken.json": b'{"format": "layerstudio-project", "version": 1, "graph": {',
             "binary.json": b"\x00\x01\x02",
             "future.json": json.dumps({"format": "layerstudio-project", "version": 99, "graph": {}}).encode(),
             "cycle.json": json.dumps({"format": "layerstudio-project", "version": 1, "graph": {
                 "nodes": [{"id": "a", "type": "ReLU"}, {"id": "b", "type": "ReLU"}],
                 "edges": [{"from": "a", "to": "b"}, {"from": "b", "to": "a"}]}}).encode()}
    expected = {"broken.json": "not valid JSON", "binary.json": "binary", "future.json": "version 99",
                "cycle.json": "cycle"}
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        window.document.undo_stack.setClean()  # no prompt
        window.open_file(path)
        qtbot.waitUntil(lambda: bool(error_dialogs(window)), timeout=5000)
        dialog = error_dialogs(window)[0]
        text = dialog.message_label.text()
        assert expected[name] in text and name in text, text
        assert "Traceback" not in text
        assert window.document is doc and doc.to_dict() == before  # nothing else changed
        dialog.copy_button.click()
        copied = QGuiApplication.clipboard().text()
        assert "LayerStudio" in copied and "Error:" in copied and "Python" in copied
        close_dialogs(window)
    missing = tmp_path / "gone.json"
    studio.settings.add_recent(missing)
    window.open_file(missing)
    qtbot.waitUntil(lambda: bool(error_dialogs(window)), timeout=5000)
    assert "no such file" in error_dialogs(window)[0].message_label.text()
    assert str(missing.resolve()) not in studio.settings.recent_files  # a vanished file leaves the list
    close_dialogs(window)


def test_new_blank_and_from_a_template(studio, window, qtbot, monkeypatch):
    window.new_from(None)
    assert list(window.document.graph.nodes) == ["input"] and window.document.path is None
    assert "Untitled" in window.windowTitle()
    template = TEMPLATES / "resnet.json"
    with qtbot.waitSignal(window.document_changed, timeout=5000):
        window.new_from(str(template))
    doc = window.document
    assert doc.project.name == json.loads(template.read_text())["name"]
    assert doc.path is None and not doc.is_modified  # a copy: Save asks where
    assert any(n.type == "Add" for n in doc.graph.nodes.values())
    assert window.panel("summary").model.ids  # the docks follow the new document
    # the chooser lists blank + every template; its choice is opened
    chosen = {}

    def fake_exec(dialog):
        chosen["titles"] = [dialog.list.item(i).text().split("\n")[0] for i in range(dialog.list.count())]
        dialog.list.setCurrentRow(dialog.list.count() - 1)
        return QDialog.DialogCode.Accepted
    from widgets.template_chooser import TemplateChooser
    monkeypatch.setattr(TemplateChooser, "exec", fake_exec)
    with qtbot.waitSignal(window.document_changed, timeout=5000):
        window.actions_["new"].trigger()
    assert chosen["titles"][0] == "Blank project" and len(chosen["titles"]) == 1 + len(list(TEMPLATES.glob("*.json")))


def test_autosave_writes_a_recovery_file_and_saving_removes_it(studio, window, qtbot, monkeypatch, tmp_path):
    saver = window.autosaver
    saver.set_interval(0.05)
    window.document.set_params("fc3", {"out_features": 12})
    with qtbot.waitSignal(saver.saved, timeout=5000) as blocker:
        pass
    file = blocker.args[0]
    data = json.loads(file.read_text())
    assert data["format"] == "layerstudio-recovery" and data["original"] == str(SAMPLE)
    assert data["project"]["graph"]["nodes"][-1]["params"] == {"out_features": 12}
    assert save_as(window, monkeypatch, tmp_path / "saved.json")
    settle()
    assert not file.exists()  # saved: nothing to recover
    window.document.set_params("fc3", {"out_features": 11})
    qtbot.waitSignal(saver.saved, timeout=5000).wait()
    answer(monkeypatch, QMessageBox.StandardButton.Discard)
    window.close()
    settle()
    assert not file.exists()  # a normal close leaves nothing behind


def test_recovery_is_offered_after_a_crash(studio, window, qtbot, monkeypatch, home):
    window.pristine = True
    project = json.loads(SAMPLE.read_text())
    project["graph"]["nodes"][-1]["params"] = {"out_features": 42}
    store = studio.recovery
    store.directory.mkdir(parents=True, exist_ok=True)
    leftover = store.directory / "12345-abc.json"
    data = json.loads(store.encode(project, str(SAMPLE)))
    data["pid"] = dead_pid()  # the process that wrote it is gone: a crash
    leftover.write_text(json.dumps(data))
    alive = store.directory / "999-live.json"  # another running instance's file is not offered
    alive.write_text(json.dumps(dict(data, pid=__import__("os").getpid())))
    asked: list[str] = []
    answer(monkeypatch, QMessageBox.StandardButton.Open, asked)
    with qtbot.waitSignal(studio.recovery_checked, timeout=5000) as blocker:
        studio.check_recovery()
    assert [e.file for e in blocker.args[0]] == [leftover]
    assert "did not close normally" in asked[0]
    recovered = window.document  # the untouched start-up window took it
    assert recovered.graph.node("fc3").params["out_features"] == 42
    assert recovered.is_modified and window.isWindowModified() and recovered.path == SAMPLE
    settle()
    assert not leftover.exists() and alive.exists()
    # nothing left: no second offer
    asked.clear()
    with qtbot.waitSignal(studio.recovery_checked, timeout=5000) as blocker:
        studio.check_recovery()
    assert blocker.args[0] == [] and not asked


def test_recovery_discard_deletes_the_files(studio, window, qtbot, monkeypatch):
    store = studio.recovery
    store.directory.mkdir(parents=True, exist_ok=True)
    leftover = store.directory / "1-x.json"
    data = json.loads(store.encode(json.loads(SAMPLE.read_text()), None))
    leftover.write_text(json.dumps(dict(data, pid=dead_pid())))
    answer(monkeypatch, QMessageBox.StandardButton.Discard)
    with qtbot.waitSignal(studio.recovery_checked, timeout=5000):
        studio.check_recovery()
    settle()
    assert not leftover.exists() and len(studio.windows) == 1


def test_start_up_document(qapp, home, tmp_path):
    from studio.app import initial_document
    doc, error = initial_document(None)
    assert doc.path == SAMPLE and error is None
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    doc2, error = initial_document(str(bad))
    assert error is not None and "not valid JSON" in error.message
    assert list(doc2.graph.nodes) == ["input"]
    run = tmp_path / "run-1"
    run.mkdir()
    (run / "project.json").write_text(SAMPLE.read_text())
    doc3, error = initial_document(str(run))  # a run directory opens its project snapshot
    assert error is None and doc3.path == run / "project.json"
    for d in (doc, doc2, doc3):
        d.close()
        d.deleteLater()


def test_preferences_apply_and_clear_the_cache_off_the_gui_thread(studio, window, qtbot, monkeypatch, tmp_path):
    from studio.preferences import PreferencesDialog
    cache = tmp_path / "cache"
    (cache / "sub").mkdir(parents=True)
    (cache / "sub" / "a.bin").write_bytes(b"x" * 3000)
    (cache / "b.bin").write_bytes(b"y" * 1000)
    studio.settings.cache_dir = str(cache)
    dialog = PreferencesDialog(studio.settings, window, studio.devices)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: "2 files" in dialog.cache_size.text(), timeout=5000)
    assert "3.9 KiB" in dialog.cache_size.text()
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes))
    dialog.clear_cache()
    qtbot.waitUntil(lambda: "0 files" in dialog.cache_size.text(), timeout=5000)
    assert cache.is_dir() and not any(cache.iterdir())
    dialog.data_root.edit.setText(str(tmp_path / "data"))
    dialog.device.setCurrentText("cuda:0")
    dialog.workers.setValue(3)
    dialog.autosave.setValue(30)
    dialog.peaks.set_rows([])
    dialog.peaks.add_row("Lab GPU", 10.0, 500.0, "gpu")
    dialog.accept()
    s = studio.settings
    assert (s.data_root, s.default_device, s.worker_threads, s.autosave_seconds) == (
        str(tmp_path / "data"), "cuda:0", 3, 30.0)
    assert s.device_peaks == [{"name": "Lab GPU", "flops": 10e12, "bandwidth": 500e9, "kind": "gpu"}]
    assert window.autosaver.timer.interval() == 30_000
    assert [window.panel("summary").device.itemText(i) for i in range(window.panel("summary").device.count())] \
        == ["Lab GPU"]
    from studio.preferences import unsafe_to_clear
    assert unsafe_to_clear(Path.home()) and unsafe_to_clear(Path("/"))


def test_log_file_and_unexpected_errors(studio, window, qtbot, tmp_path):
    from studio import app_log
    from studio.error_dialog import install_excepthook
    path = app_log.setup(tmp_path / "logs")
    old_hook = sys.excepthook
    try:
        install_excepthook()
        try:
            raise RuntimeError("boom in a slot")
        except RuntimeError as e:
            sys.excepthook(type(e), e, e.__traceback__)
        from PySide6.QtWidgets import QApplication
        from studio.error_dialog import ErrorDialog
        dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, ErrorDialog) and w.isVisible()] \
            + error_dialogs(window)
        assert dialogs and "Something went wrong" in dialogs[0].message_label.text()
        assert "boom in a slot" in dialogs[0].details and "Traceback" in dialogs[0].details
        for d in dialogs:
            d.close()
        logging.getLogger("studio.test").warning("a line for the log")
        text = path.read_text()
        assert "boom in a slot" in text and "a line for the log" in text
    finally:
        sys.excepthook = old_hook
        app_log.shutdown()
    assert no_torch()


def test_a_project_file_dropped_on_the_window_opens(window, qtbot, tmp_path):
    from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication
    target = tmp_path / "dropped.json"
    target.write_text((TEMPLATES / "mlp.json").read_text())
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(target))])
    vp = window.canvas.viewport()  # dropped over the canvas: the canvas passes it up to the window
    at = QPoint(50, 50)
    enter = QDragEnterEvent(at, Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(vp, enter)
    assert enter.isAccepted()
    with qtbot.waitSignal(window.document_changed, timeout=5000):
        QApplication.sendEvent(vp, QDropEvent(QPointF(at), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                                              Qt.KeyboardModifier.NoModifier))
    assert window.document.path == target and window.document.project.name == "MLP on shapes"
