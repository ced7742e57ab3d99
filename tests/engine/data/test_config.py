"""The dataset section: settings errors name the key; sources parse; progress is reported."""
import pytest

from engine.data import describe_dataset, open_dataset
from engine.errors import ConfigError, LayerStudioError


@pytest.mark.parametrize("cfg, key", [
    ({"source": "builtin:nope"}, "dataset.source"),
    ({"source": "http://x"}, "dataset.source"),
    ({"source": 5}, "dataset.source"),
    ({"source": "folder:"}, "dataset.source"),
    ({"val_fraction": 1.5}, "dataset.val_fraction"),
    ({"resize_mode": "zoom"}, "dataset.resize_mode"),
    ({"channels": 2}, "dataset.channels"),
    ({"image_size": [0, 4]}, "dataset.image_size"),
    ({"size": 3}, "dataset.size"),
    ({"resident": "yes"}, "dataset.resident"),
])
def test_bad_settings_are_config_errors_naming_the_key(cfg, key):
    for fn in (describe_dataset, open_dataset):
        with pytest.raises(ConfigError) as e:
            fn(cfg)
        assert e.value.key == key and isinstance(e.value, LayerStudioError)


def test_source_names_are_case_insensitive():
    assert describe_dataset({"source": "Builtin:Shapes"}).num_classes == 6
    assert describe_dataset({"source": "torchvision:cifar10"}).source == "torchvision:CIFAR10"


def test_unknown_keys_are_kept_and_reported():
    ds = open_dataset({"source": "builtin:shapes", "size": 24, "colour": "blue"})
    assert any("dataset.colour" in w for w in ds.warnings)


def test_progress_reports_done_and_total(tmp_path):
    seen = []
    open_dataset({"source": "builtin:shapes", "size": 24}, progress=lambda d, t, m: seen.append((d, t, m)))
    assert seen[0][2].startswith("Generating") and seen[-1][:2] == (1, 1)


def test_describe_generates_reads_and_decodes_nothing(tmp_path, monkeypatch):
    import builtins

    import engine.data.shapes as shapes
    import engine.data.waves as waves
    from PIL import Image

    def fail(*a, **k):
        raise AssertionError("describe_dataset did real work")
    monkeypatch.setattr(shapes, "generate_shapes", fail)
    monkeypatch.setattr(waves, "generate_waves", fail)
    monkeypatch.setattr(Image, "open", fail)
    real_open = builtins.open
    monkeypatch.setattr(builtins, "open", lambda f, *a, **k: fail() if "no-data-root" in str(f) else
                        real_open(f, *a, **k))
    for src in ("builtin:shapes", "builtin:waves", "torchvision:MNIST", f"folder:{tmp_path}"):
        describe_dataset({"source": src})
    assert not list(tmp_path.iterdir())  # and wrote nothing
