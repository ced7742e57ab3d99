"""Schemas of the project's ``dataset`` and ``training`` sections (pure Python)."""
from engine.schema.base import Setting, resolve
from engine.schema.dataset import DATASET_SETTINGS
from engine.schema.training import TRAINING_SETTINGS


def resolve_dataset(section):
    return resolve("dataset", section, DATASET_SETTINGS)


def resolve_training(section):
    return resolve("training", section, TRAINING_SETTINGS)


__all__ = ["DATASET_SETTINGS", "TRAINING_SETTINGS", "Setting", "resolve", "resolve_dataset", "resolve_training"]
