"""The small parts the window's panels are made of: number formats, the device table,
generated labels, number parsing, image conversion, the editors' value round trips."""
from __future__ import annotations

import numpy as np
import pytest

from studio import device_peaks
from studio.docks.fields import _null_text, humanize, param_field, setting_field
from widgets import units
from widgets.editors import Invalid, make_editor, parse_numbers
from widgets.image_grid import to_uint8_hwc


def test_units():
    assert units.si(61_706) == "61.7 K" and units.si(1_300_000, "FLOP") == "1.30 MFLOP"
    assert units.si(456) == "456" and units.si(None) == "—" and units.si(0) == "0"
    assert units.si(999_999) == "1.00 M"
    assert units.binary_bytes(4 * 2**20) == "4.0 MiB" and units.binary_bytes(512) == "512 B"
    assert units.shape((16, 32, 32)) == "16 × 32 × 32" and units.shape(None) == "—"


def test_device_table_matches_engine_devices_and_reads_user_rows():
    table = list(device_peaks.BUILTIN)
    assert device_peaks.best_match(table, "NVIDIA H100 80GB HBM3").name == "NVIDIA H100 SXM"
    assert device_peaks.best_match(table, "NVIDIA A100-SXM4-80GB").name == "NVIDIA A100 80GB"
    assert device_peaks.best_match(table, "NVIDIA GeForce RTX 4090").name == "NVIDIA GeForce RTX 4090"
    assert device_peaks.best_match(table, "Some future GPU") is None
    assert device_peaks.best_match(table, "AMD EPYC", "cpu").kind == "cpu"
    rows = device_peaks.from_rows([{"name": "X", "flops": 1e12, "bandwidth": 1e11},
                                   {"name": "", "flops": 1, "bandwidth": 1}, {"name": "bad", "flops": "?"},
                                   {"name": "neg", "flops": -1, "bandwidth": 1}])
    assert [r.name for r in rows] == ["X"] and rows[0].ridge == 10
    assert device_peaks.from_rows(None) == table


def test_generated_labels():
    assert humanize("out_channels") == "Out channels"
    assert humanize("optimizer.lr", "Optimizer") == "Learning rate"
    assert humanize("early_stopping.patience", "Validation") == "Early stopping patience"
    assert humanize("augment.hflip", "Augmentation") == "Horizontal flip"
    assert humanize("val_every") == "Validate every"
    assert _null_text("Step between windows (default: kernel_size)") == "default: kernel_size"
    assert _null_text("Token id (empty: none)") == "none"
    assert _null_text("Output size; leave empty to use scale_factor") == "use scale_factor"


def test_parse_numbers():
    assert parse_numbers("3, 32, 32", True) == (3, 32, 32)
    assert parse_numbers("3x32x32", True) == (3, 32, 32)
    assert parse_numbers("0.5; 2", False) == (0.5, 2.0)
    assert isinstance(parse_numbers("3,,4", True), Invalid)
    assert "'a' is not a whole number" in parse_numbers("3, a", True).message
    assert isinstance(parse_numbers("", True), Invalid)


def test_image_conversion():
    chw = np.zeros((3, 8, 5), np.uint8)
    assert to_uint8_hwc(chw).shape == (8, 5, 3)
    gray = np.linspace(0, 1, 20, dtype=np.float32).reshape(4, 5)
    out = to_uint8_hwc(gray)
    assert out.dtype == np.uint8 and out.min() == 0 and out.max() == 255
    wide = np.array([[-2.0, 2.0]])
    assert to_uint8_hwc(wide).tolist() == [[0, 255]]
    with pytest.raises(ValueError):
        to_uint8_hwc(np.zeros((2, 2, 2, 2)))


def test_every_catalog_and_schema_value_round_trips_through_its_editor(qapp):
    """Whatever the model holds, its editor shows it and gives it back unchanged."""
    from engine.catalog import CATALOG
    from engine.schema import DATASET_SETTINGS, TRAINING_SETTINGS
    cases = [(param_field(p), p, p.validate(p.default) if p.default is not None else None)
             for spec in CATALOG.values() for p in spec.params]
    cases += [(setting_field(s), s.param, s.param.validate(s.param.default) if s.param.default is not None
               else None) for s in DATASET_SETTINGS + TRAINING_SETTINGS]
    for field, param, value in cases:
        editor = make_editor(field)
        editor.set_value(value)
        got = editor.value()
        assert got is not None or param.nullable, field.name
        normal = param.validate(got) if got is not None else None
        assert normal == value, (field.name, value, got)
        editor.deleteLater()
