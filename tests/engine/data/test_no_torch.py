"""What the GUI process uses (open, explore, preview, describe, cache) never imports torch."""
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_engine_data_is_torch_free(tmp_path):
    img = tmp_path / "imgs"
    code = textwrap.dedent(f"""
        import sys, numpy as np
        from PIL import Image
        from pathlib import Path
        from engine.data import open_dataset, describe_dataset, augment_preview, cache_size
        for k in ("a", "b"):
            (Path({str(img)!r}) / k).mkdir(parents=True)
            Image.fromarray(np.zeros((5, 5, 3), np.uint8)).save(Path({str(img)!r}) / k / "0.png")
        ds = open_dataset({{"source": "builtin:shapes", "size": 24}})
        ds.samples(0, 2); ds.mean_image(); ds.stats(); ds.class_counts()
        augment_preview(ds, 0, {{"hflip": True, "rotation": 10, "color_jitter": 0.2}}, 2, 0)
        open_dataset({{"source": "folder:{img}", "val_fraction": 0}}, input_shape=(3, 4, 4))
        open_dataset({{"source": "builtin:waves", "size": 40}})
        describe_dataset({{"source": "torchvision:CIFAR10"}})
        cache_size()
        assert "torch" not in sys.modules, sorted(m for m in sys.modules if m.startswith("torch"))
        print("ok")
    """)
    env = {"PYTHONPATH": str(REPO), "LAYERSTUDIO_CACHE_DIR": str(tmp_path / "cache"),
           "LAYERSTUDIO_DATA_ROOT": str(tmp_path / "root"), "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]
