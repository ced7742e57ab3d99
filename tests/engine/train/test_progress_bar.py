"""The command line's progress bar, fed with events (no training needed)."""
import io

import numpy as np

from engine.runs import events as ev
from engine.train.progress import ProgressBar


def metrics(epoch, steps, loss=0.5):
    s = np.asarray(steps, dtype=np.int64)
    return ev.Metrics(epoch=epoch, step=s, loss=np.full(len(s), loss, np.float32),
                      accuracy=np.full(len(s), 0.75, np.float32), lr=np.full(len(s), 0.1),
                      time=np.zeros(len(s)), images_per_s=1234.0)


def feed(bar):
    bar(ev.Started("runs/x", 2, 10, 640, 160, ["a"], "cpu", 61666, 1, 0, 1))
    bar(metrics(1, [1, 2, 3]))
    bar(metrics(1, [4, 5, 6, 7, 8, 9, 10], loss=float("nan")))
    bar(ev.EpochEnd(1, 2, 10, 0.4321, 0.8, 2000.0, 0.32, 0.1))
    bar(ev.Validation(1, 10, 0.5, 0.7, np.eye(1, dtype=np.int64)))
    bar(ev.Log("warning", "something to know"))
    bar(ev.Finished("finished", 2, 20))


def test_on_a_terminal_one_line_is_redrawn_with_eta():
    out = io.StringIO()
    feed(ProgressBar(out, tty=True, min_interval=0))
    text = out.getvalue()
    assert "\r\x1b[2Kepoch 1/2 [#######" in text and "3/10" in text and "1,234 img/s" in text and "ETA" in text
    assert "loss nan" in text  # a non-finite batch shows as nan, never crashes the bar
    assert "epoch 1/2  loss 0.4321  acc 80.0%  2,000 img/s  0.3 s\n" in text
    assert "val loss 0.5000  acc 70.0%" in text and "warning: something to know\n" in text
    assert text.startswith("training on cpu: 61,666 parameters, 640 training / 160 validation samples")


def test_in_a_log_file_only_whole_lines_are_written():
    out = io.StringIO()
    feed(ProgressBar(out, tty=False))
    text = out.getvalue()
    assert "\r" not in text and "\x1b" not in text
    assert text.count("\n") == 4  # started, epoch, validation, warning
