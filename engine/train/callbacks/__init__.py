"""Callbacks around the training loop, one per file."""
from engine.train.callbacks.base import Callback, CallbackList
from engine.train.callbacks.checkpointing import Checkpointing
from engine.train.callbacks.early_stopping import EarlyStopping
from engine.train.callbacks.event_stream import EventStream
from engine.train.callbacks.run_recorder import RunRecorder

__all__ = ["Callback", "CallbackList", "Checkpointing", "EarlyStopping", "EventStream", "RunRecorder"]
