"""Schemas of the project's ``dataset`` and ``training`` sections (pure Python)."""
from engine.schema.base import Setting, resolve
from engine.schema.dataset import DATASET_SETTINGS
from engine.schema.probes import PROBE_SETTINGS
from engine.schema.schedule import SCHEDULE_SETTINGS
from engine.schema.training import TRAINING_SETTINGS as _CORE_TRAINING

#: every key of the training section (the core loop's, the schedule's and the live probes')
TRAINING_SETTINGS = _CORE_TRAINING + SCHEDULE_SETTINGS + PROBE_SETTINGS


def resolve_dataset(section):
    return resolve("dataset", section, DATASET_SETTINGS)


def resolve_training(section):
    return resolve("training", section, TRAINING_SETTINGS)


__all__ = ["DATASET_SETTINGS", "TRAINING_SETTINGS", "Setting", "resolve", "resolve_dataset", "resolve_training"]
