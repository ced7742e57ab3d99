"""``layerstudio check FILE [--json]``: validate a project without torch, in well under a second.

Lists every problem at once: structural errors of the graph (loaded in collecting mode),
shape diagnostics, invalid ``dataset``/``training`` settings, and a mismatch between the
graph's output and the dataset's class count when that is known cheaply. Warnings and hints
are shown but do not make a project invalid. Exit 0 valid, 1 invalid, 2 unusable file.
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from engine.errors import ConfigError, LayerStudioError, UnreadableFileError
from engine.graph.inference import Inference
from engine.project import Project, load
from engine.project.io import parse_json
from engine.schema import resolve_dataset, resolve_training
from engine.schema.base import del_path, get_path

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2

# What a built-in dataset gives, when engine.data cannot say: (classes, sample shape).
BUILTIN_DATASETS = {"shapes": (6, (3, 32, 32)), "waves": (4, (1, 128))}
SOURCE_KINDS = ("builtin", "torchvision", "folder")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="project file (.json)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON report on stdout (also when the project is invalid)")


@dataclass
class Report:
    """What ``check`` found. ``nodes`` and the totals use null (None) for unknown values."""

    path: str
    name: str | None = None
    nodes: list[dict[str, Any]] = field(default_factory=list)
    total_params: int | None = None
    total_flops: int | None = None
    total_elementwise: int | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)  # {"node", "key", "message"}
    warnings: list[dict[str, Any]] = field(default_factory=list)  # + "severity": warning | hint
    unusable: bool = False  # the file could not be used at all (exit 2)

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def exit_code(self) -> int:
        return EXIT_USAGE if self.unusable else EXIT_INVALID if self.errors else EXIT_OK

    def error(self, node: str | None, key: str | None, message: str) -> None:
        self.errors.append({"node": node, "key": key, "message": message})

    def warn(self, node: str | None, key: str | None, message: str, severity: str = "warning") -> None:
        self.warnings.append({"node": node, "key": key, "message": message, "severity": severity})

    def to_json(self) -> dict[str, Any]:
        return {"valid": self.valid, "name": self.name, "nodes": self.nodes, "total_params": self.total_params,
                "total_flops": self.total_flops, "total_elementwise": self.total_elementwise,
                "errors": self.errors, "warnings": self.warnings}


def check_file(path: str | Path) -> Report:
    report = Report(path=str(path))
    structural: list[LayerStudioError] = []
    try:
        project = load(path, errors=structural)
    except UnreadableFileError as e:
        report.unusable = True
        report.error(e.node, e.key, e.message)
        return report
    except LayerStudioError as e:  # wrong format, future version, graph not an object
        report.error(e.node, e.key, e.message)
        return report
    for e in structural:
        report.error(e.node, e.key, e.message)
    tainted = {e.node for e in structural if e.node is not None}
    if tainted:  # follow the file's own edges: a refused node's successors are not in the graph's
        tainted = _downstream_in_file(path, tainted)
    check_project(project, report, base_dir=Path(path).resolve().parent, tainted=tainted)
    return report


def _downstream_in_file(path: str | Path, start: set[str]) -> set[str]:
    """Ids reachable from ``start`` along the edges the file lists (valid or not)."""
    edges = parse_json(Path(path).read_bytes())["graph"].get("edges", [])
    succ: dict[str, list[str]] = {}
    for ed in edges if isinstance(edges, list) else ():
        if isinstance(ed, dict) and isinstance(ed.get("from"), str) and isinstance(ed.get("to"), str):
            succ.setdefault(ed["from"], []).append(ed["to"])
    seen, stack = set(), list(start)
    while stack:
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            stack.extend(succ.get(n, ()))
    return seen


def check_project(project: Project, report: Report, *, base_dir: Path, tainted: set[str] = frozenset()) -> None:
    """Fill ``report`` with the graph's table and every diagnostic and configuration problem.

    ``tainted``: nodes whose own entry was refused (their numbers, and those of every node
    downstream, are unknown rather than misleading, and their shape diagnostics are noise).
    """
    g = project.graph
    report.name = project.name
    training = _resolve_collecting("training", project.training, resolve_training, report)
    dataset = _resolve_collecting("dataset", project.dataset, resolve_dataset, report)
    batch = training.get("batch_size", 64) if training else 64
    inference = Inference(g, batch_size=batch)
    infos = inference.all()
    unknown = set()
    for n in tainted:
        if n in g.nodes:
            unknown |= g.reachable(n)
        elif isinstance(n, str):
            unknown.add(n)

    for n, node in g.nodes.items():
        info = infos.get(n)
        known = info is not None and info.out is not None and n not in unknown
        report.nodes.append({"id": n, "type": node.type,
                             "output_shape": list(info.out.shape) if known else None,
                             "params": info.params if known else None,
                             "flops": info.flops if known else None,
                             "elementwise": info.elementwise if known else None})
    for d in inference.diagnostics():
        if d.node in unknown or (d.node is None and tainted):
            continue
        if d.severity == "error":
            report.error(d.node, d.key, d.message)
        else:
            report.warn(d.node, d.key, d.message, d.severity)
    if report.nodes and all(r["params"] is not None for r in report.nodes):
        report.total_params = sum(r["params"] for r in report.nodes)
        report.total_flops = sum(r["flops"] for r in report.nodes)
        report.total_elementwise = sum(r["elementwise"] for r in report.nodes)
    if dataset is not None:
        _check_against_dataset(project, dataset, infos, unknown, report, base_dir)


def _resolve_collecting(section_name: str, section: dict, resolver: Callable, report: Report) -> dict | None:
    """Resolve a section, reporting every invalid setting (each one dropped in turn, so the
    next can be found). Returns the resolved values, or None if the section stays invalid."""
    section = copy.deepcopy(section)
    for _ in range(1000):
        try:
            values, warnings = resolver(section)
        except ConfigError as e:
            report.error(None, e.key, e.message)
            prefix = section_name + "."
            key = e.key[len(prefix):] if e.key and e.key.startswith(prefix) else None
            if key is None or not _has_path(section, key):
                return None
            del_path(section, key)
            continue
        for w in warnings:
            report.warn(None, w.split(":", 1)[0], w)
        return values
    return None


def _has_path(section: dict, key: str) -> bool:
    missing = object()
    return get_path(section, key, missing) is not missing


def _check_against_dataset(project: Project, dataset: dict, infos: dict, unknown: set[str], report: Report,
                           base_dir: Path) -> None:
    source = dataset.get("source", "")
    described = _describe_dataset(project, dataset, base_dir, report)
    if described is None:
        return
    classes, sample_shape = described
    g = project.graph
    inp = project.input_node()
    if sample_shape is not None and inp is not None and inp not in unknown:
        shape = tuple(g.nodes[inp].params["shape"])
        if shape != tuple(sample_shape):
            msg = (f"{inp}: {source} gives samples of shape {_fmt(sample_shape)} but the Input's shape is "
                   f"{_fmt(shape)}")
            if source.startswith("builtin:"):
                report.error(inp, "shape", msg)
            else:
                report.warn(inp, "shape", msg)
    outputs = [n for n in g.output_nodes() if g.nodes[n].type != "Input"]
    if len(outputs) != 1 or outputs[0] in unknown or infos[outputs[0]].out is None:
        return  # already a diagnostic (several outputs, shape error upstream)
    out = outputs[0]
    shape = infos[out].out.shape
    want = f"[{classes}]" if classes else "[number of classes]"
    if len(shape) != 1:
        report.error(out, None, f"{out}: the output has shape {_fmt(shape)}; a classifier's output is one "
                                f"score per class, {want} (end with Flatten and Linear)")
    elif classes is not None and shape[0] != classes:
        key = "out_features" if g.nodes[out].type == "Linear" else None
        fix = f" (set out_features to {classes})" if key else ""
        report.error(out, key, f"{out}: the output has {shape[0]} values but {source} has {classes} classes{fix}")


def _describe_dataset(project: Project, dataset: dict, base_dir: Path,
                      report: Report) -> tuple[int | None, tuple | None] | None:
    """(number of classes, sample shape), each None when not known cheaply; None on an error."""
    source = dataset.get("source", "")
    kind, _, rest = source.partition(":")
    if kind not in SOURCE_KINDS or not rest:
        report.error(None, "dataset.source", f"dataset.source: expected builtin:NAME, torchvision:NAME or "
                                             f"folder:PATH, got {source!r:.60}")
        return None
    describe = _data_describer()
    if describe is not None:
        try:
            desc = describe(project.dataset, base_dir=base_dir, data_root=dataset.get("data_root"))
        except ConfigError as e:  # describe re-validates the section: report each error once
            if not any(x["key"] == e.key and x["message"] == e.message for x in report.errors):
                report.error(e.node, e.key, e.message)
            return None
        except LayerStudioError as e:  # data that is not here: a warning, the project can be checked anywhere
            report.warn(e.node, e.key or "dataset.source", e.message)
            return None
        classes, shape, warnings = (desc.num_classes, desc.sample_shape, desc.warnings) \
            if hasattr(desc, "num_classes") else desc
        for w in warnings or ():
            report.warn(None, "dataset.source", str(w))
        return classes, (tuple(shape) if shape is not None else None)
    if kind == "builtin":
        if rest not in BUILTIN_DATASETS:
            report.error(None, "dataset.source", f"dataset.source: unknown built-in dataset {rest!r:.40} "
                                                 f"(known: {', '.join(BUILTIN_DATASETS)})")
            return None
        return BUILTIN_DATASETS[rest]
    if kind == "folder":
        folder = Path(rest) if Path(rest).is_absolute() else base_dir / rest
        if not _is_dir(folder):
            report.warn(None, "dataset.source", f"dataset.source: the folder {folder} is not on this machine; "
                                                f"the class count is not checked")
    return None, None


def _is_dir(path: Path) -> bool:
    """is_dir for any text a file may hold (too long, NUL bytes, no permission: not here)."""
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def _data_describer():
    """``engine.data.describe_dataset`` when that package provides it (it is torch-free)."""
    try:
        from engine.data import describe_dataset
    except ImportError as e:
        if getattr(e, "name", None) in (None, "engine.data") or "describe_dataset" in str(e):
            return None
        raise
    return describe_dataset


# -- output ---------------------------------------------------------------------------------
def run(args: argparse.Namespace) -> int:
    for stream in (sys.stdout, sys.stderr):  # a message never dies on a console's encoding
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    report = check_file(args.file)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print_report(report)
    return report.exit_code


def print_report(report: Report, out=None, err=None) -> None:
    out = out or sys.stdout
    err = err or sys.stderr
    if report.name is not None:
        rows = [(_clip(r["id"]), _clip(r["type"], 20), _fmt(r["output_shape"]) if r["output_shape"] else "?",
                 _count(r["params"]), _si(r["flops"])) for r in report.nodes]
        header = ("id", "type", "output shape", "params", "FLOPs")
        total = ("total", "", "", _count(report.total_params), _si(report.total_flops))
        widths = [max(len(row[i]) for row in [header, total, *rows]) for i in range(5)]
        line = lambda row: "  ".join(c.ljust(w) if i < 3 else c.rjust(w)  # noqa: E731
                                     for i, (c, w) in enumerate(zip(row, widths))).rstrip()
        print(_safe(f"{report.name}  ({report.path})"), file=out)
        print(line(header), file=out)
        print(line(tuple("─" * w for w in widths)), file=out)
        for row in rows:
            print(_safe(line(row)), file=out)
        print(line(total), file=out)
    for w in report.warnings:
        print(_safe(f"{w['severity']}: {w['message']}"), file=err)
    for e in report.errors:
        print(_safe(f"error: {e['message']}"), file=err)
    if report.valid:
        extra = f" (+ {_si(report.total_elementwise)} element-wise)" if report.total_elementwise else ""
        print(f"valid: {len(report.nodes)} nodes, {_count(report.total_params)} parameters, "
              f"{_si(report.total_flops)} FLOPs per sample{extra}", file=out)
    elif not report.unusable and report.name is not None:
        n = len(report.errors)
        print(f"invalid: {n} error{'s' if n != 1 else ''}", file=err)


def _fmt(shape) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _count(v: int | None) -> str:
    return "?" if v is None else f"{v:,}"


def _si(v: int | None) -> str:
    if v is None:
        return "?"
    for unit, scale in (("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if v >= scale:
            return f"{v / scale:.3g} {unit}"
    return str(v)


def _clip(text: str, width: int = 32) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _safe(text: str) -> str:
    """Ids and names are data: escape anything a terminal could interpret (ESC, C1 controls)."""
    return text if text.isprintable() else "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
