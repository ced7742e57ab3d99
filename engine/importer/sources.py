"""Where a model comes from: ``torchvision:NAME`` or ``path/to/module.py:ClassName``.

torchvision models are built on the meta device (no weights allocated or initialized: an
import needs the structure only). A user's class is built on the CPU with no arguments;
importing its file runs it, which the app warns about.
"""
from __future__ import annotations

import difflib
import importlib.util
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from engine.errors import ImportModelError, ModelNotFoundError

#: constructor arguments that give the plain inference network (no auxiliary heads)
TORCHVISION_KWARGS = {
    "googlenet": {"aux_logits": False, "init_weights": False, "transform_input": False},
    "inception_v3": {"aux_logits": False, "init_weights": False, "transform_input": False},
}


@dataclass
class Source:
    model: nn.Module
    what: str  # how messages name it: "torchvision resnet50", "net.py:Net"
    name: str  # the project's name
    input_id: str | None = None  # the Input node's id (None: the forward argument's name)
    default_shape: tuple[int, ...] | None = None


def parse(spec: str) -> tuple[str, str]:
    """``"torchvision:resnet18"`` → ("torchvision", "resnet18"); ``"a/b.py:Net"`` → ("a/b.py", "Net")."""
    head, sep, tail = spec.rpartition(":")
    if not sep or not head or not tail:
        raise ModelNotFoundError(f"{spec!r}: name a model as torchvision:NAME or FILE.py:ClassName",
                                 key="source")
    return head, tail


def load(spec: str) -> Source:
    head, tail = parse(spec)
    if head == "torchvision":
        return torchvision_model(tail)
    return python_class(Path(head), tail)


def torchvision_model(name: str) -> Source:
    import torchvision
    names = torchvision.models.list_models(module=torchvision.models)
    if name not in names:
        close = difflib.get_close_matches(name, names, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ModelNotFoundError(f"torchvision has no classification model {name!r}{hint}", key="source")
    kwargs = TORCHVISION_KWARGS.get(name, {})
    try:
        with torch.device("meta"):
            model = torchvision.models.get_model(name, weights=None, **kwargs)
    except Exception:  # a constructor that computes with real tensors: build it on the CPU
        model = torchvision.models.get_model(name, weights=None, **kwargs)
    shape = (3, 299, 299) if name == "inception_v3" else (3, 224, 224)
    return Source(model, f"torchvision {name}", name, input_id="input", default_shape=shape)


def python_class(path: Path, class_name: str) -> Source:
    what = f"{path.name}:{class_name}"
    if path.suffix != ".py":
        raise ModelNotFoundError(f"{path}: expected a Python file (.py)", key="source")
    if not path.is_file():
        raise ModelNotFoundError(f"{path}: no such file", key="source")
    module = _run_file(path)
    cls = getattr(module, class_name, None)
    if cls is None:
        defined = sorted(k for k, v in vars(module).items()
                         if isinstance(v, type) and issubclass(v, nn.Module) and v.__module__ == module.__name__)
        hint = f" (it defines {', '.join(defined)})" if defined else " (it defines no torch.nn.Module)"
        raise ModelNotFoundError(f"{path.name} does not define {class_name!r}{hint}", key="source")
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise ImportModelError(f"{what} is not a torch.nn.Module class", key="source")
    try:
        model = cls()
    except Exception as e:
        raise ImportModelError(f"{what}() failed{_where(e, path)}: {type(e).__name__}: {e}") from None
    return Source(model, what, class_name)


def _run_file(path: Path):
    """Execute the file as a fresh module; its folder is importable while it runs."""
    path = path.resolve()
    name = f"_layerstudio_import_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look their module up here
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    except SyntaxError as e:
        sys.modules.pop(name, None)
        raise ImportModelError(f"{path.name}: syntax error at line {e.lineno}: {e.msg}") from None
    except BaseException as e:  # noqa: BLE001 - SystemExit from a script is also a failed import
        sys.modules.pop(name, None)
        if isinstance(e, KeyboardInterrupt):
            raise
        raise ImportModelError(f"importing {path.name} failed{_where(e, path)}: "
                               f"{type(e).__name__}: {e}") from None
    finally:
        try:
            sys.path.remove(str(path.parent))
        except ValueError:
            pass
    return module


def _where(e: BaseException, path: Path) -> str:
    for frame in reversed(traceback.extract_tb(e.__traceback__)):
        if Path(frame.filename).resolve() == path.resolve():
            return f" (line {frame.lineno})"
    return ""
