"""Typed errors of the engine. Each names the node and/or key it concerns.

Everything a user can get wrong raises a subclass of ``LayerStudioError``; the CLI and the
app catch exactly these and show ``str(error)``, never a traceback.
"""
from __future__ import annotations


class LayerStudioError(Exception):
    """Base of every error caused by user input. ``node`` and ``key`` locate it."""

    def __init__(self, message: str, *, node: str | None = None, key: str | None = None):
        super().__init__(message)
        self.message = message
        self.node = node
        self.key = key

    def as_dict(self) -> dict:
        return {"node": self.node, "key": self.key, "message": self.message}


# -- graph edits refused by the model API ---------------------------------------------
class GraphError(LayerStudioError):
    """A structural edit the graph model refuses."""


class UnknownNodeError(GraphError):
    pass


class UnknownPortError(GraphError):
    pass


class UnknownTypeError(GraphError):
    pass


class DuplicateIdError(GraphError):
    pass


class CycleError(GraphError):
    pass


class SelfEdgeError(GraphError):
    pass


class DuplicateEdgeError(GraphError):
    pass


class ParamError(GraphError):
    """A parameter that is unknown, ill-typed, NaN or out of range."""


# -- files and configuration ------------------------------------------------------------
class ProjectFormatError(LayerStudioError):
    """The file was read but is not a valid project (CLI exit 1)."""


class UnreadableFileError(LayerStudioError):
    """Missing, unreadable, empty, binary, not JSON or nested too deep (CLI exit 2)."""


class ConfigError(LayerStudioError):
    """An invalid ``dataset`` or ``training`` setting; ``key`` is its dotted path."""


class ShapeError(LayerStudioError):
    """Raised by a layer's shape rule; becomes a diagnostic on a graph that stays editable."""


class DatasetError(LayerStudioError):
    """A dataset that cannot be opened or used; ``key`` is the setting that fixes it ("dataset.source")."""


# -- export and import ------------------------------------------------------------------
class ExportError(LayerStudioError):
    """An export that cannot be done: weights that do not match the graph, a failed check (CLI exit 1)."""


class ImportModelError(LayerStudioError):
    """A model that cannot be imported: it fails to load or trace, or uses ops the catalog lacks (CLI exit 1)."""


class ModelNotFoundError(ImportModelError):
    """The model named on the command line does not exist: an unknown torchvision name, a missing
    .py file, or a file without that class (CLI exit 2, a usage error)."""


# -- interpretability -------------------------------------------------------------------
class ExplainError(LayerStudioError):
    """An explanation that cannot be computed: an undecodable image, a wrong channel count, a layer
    that is not a convolution, a checkpoint that does not match the graph. ``key`` names the input."""


class Cancelled(LayerStudioError):
    """The user cancelled a long computation; nothing was changed. Not a failure: show no error."""


# -- training ---------------------------------------------------------------------------
class PreflightError(LayerStudioError):
    """A check before the first training step failed: the model does not fit the data (output
    size, input shape or dtype) or the device memory. The message names the setting to change."""


class RunDirError(LayerStudioError):
    """A run directory that cannot be resumed or followed (missing, no checkpoint, still running)."""


class BuildError(LayerStudioError):
    """The graph cannot be compiled to a torch module (it has errors); ``node`` names the first."""
