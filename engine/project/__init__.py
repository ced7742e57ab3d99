"""Project files, format 1: JSON only, atomic saves, migrations keyed on ``version``."""
from engine.project.document import FORMAT, VERSION, Project
from engine.project.io import dumps, load, loads, save

__all__ = ["FORMAT", "VERSION", "Project", "dumps", "load", "loads", "save"]
