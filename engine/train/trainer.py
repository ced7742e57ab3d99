"""The trainer: turns a project into a running, recorded, resumable training run.

    trainer = Trainer(project, project_path=path, run_dir=run_path, callbacks=[EventStream(sink)])
    trainer.setup()            # every check; raises LayerStudioError before any work or file
    finished = trainer.fit()   # an engine.runs.events.Finished; never raises for a failed run

    trainer = Trainer.resume(run_path, epochs=8)   # continue exactly where the run stopped

``setup`` validates everything that can be wrong with the input (settings, graph, data,
devices, memory) and only then creates the run directory. ``fit`` drives ``train_one_epoch``
and ``evaluate`` and leaves everything around them to callbacks; a failure inside the loop is
classified (engine.runs.failures) and reported through the callbacks, and ``fit`` returns.
"""
from __future__ import annotations

import copy
import functools
import os
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import torch

from engine.build import build_module
from engine.data import open_dataset
from engine.data.loader import make_batch_source
from engine.errors import ConfigError, LayerStudioError, RunDirError
from engine.graph.inference import Inference
from engine.project import Project
from engine.project.io import from_dict
from engine.runs import events as ev
from engine.runs import failures
from engine.runs.atomic import write_json_atomic
from engine.runs.checkpoints import latest_checkpoint
from engine.runs.layout import RunDir, open_run
from engine.runs.metrics import keep_rows
from engine.runs.status import effective_state, read_status
from engine.schema import resolve_dataset, resolve_training
from engine.schema.base import set_path, to_nested
from engine.train import ddp, preflight
from engine.train.callbacks import Callback, CallbackList, Checkpointing, EarlyStopping, RunRecorder
from engine.train.callbacks.ema import EMAUpdate
from engine.train.checkpoint import load_checkpoint, save_checkpoint
from engine.train.control import Control
from engine.train.device import available_memory, resolve_device
from engine.train.ema import EMA
from engine.train.errors import CheckpointWriteError, NonFiniteError
from engine.train.finetune import load_init_from
from engine.train.host_malloc import keep_freed_memory
from engine.train.init import init_weights
from engine.train.loop import Position, evaluate, train_one_epoch
from engine.train.loss import final_softmax_warning, make_loss
from engine.train.metrics import StepMetrics
from engine.train.optim import make_optimizer
from engine.train.options import check_options
from engine.train.probe_callbacks import probe_callbacks
from engine.train.probe_config import ProbeConfig
from engine.train.rng import capture_rng, restore_rng, seed_everything
from engine.train.schedule import is_per_step, make_scheduler
from engine.train.speed import apply_layout, compiled
from engine.train.step import TrainStep

CONFIG_FORMAT = "layerstudio-run-config"
#: the command-line options that override training settings
OVERRIDES = {"epochs": "epochs", "batch_size": "batch_size", "device": "device", "init_from": "init_from.run"}


class Trainer:
    def __init__(self, project: Project, *, project_path: str | os.PathLike | None = None,
                 run_dir: str | os.PathLike | None = None, overrides: Mapping[str, Any] | None = None,
                 callbacks: Iterable[Callback] = (), control: Control | None = None,
                 base_dir: str | os.PathLike | None = None, resume_from: str | os.PathLike | None = None,
                 data_root: str | os.PathLike | None = None, cache_dir: str | os.PathLike | None = None) -> None:
        # a private copy: overrides must not leak into the caller's project
        self.project = from_dict(copy.deepcopy(project.to_dict()))
        for key, value in (overrides or {}).items():
            if value is not None:
                set_path(self.project.training, OVERRIDES[key], value)
        self.cfg, train_warnings = resolve_training(self.project.training)
        self.data_cfg, data_warnings = resolve_dataset(self.project.dataset)
        self.warnings: list[str] = train_warnings + data_warnings
        self.project_path = Path(project_path).resolve() if project_path else None
        self.base_dir = Path(base_dir) if base_dir else (self.project_path.parent if self.project_path else Path.cwd())
        self.data_root, self.cache_dir = data_root, cache_dir
        self.run = RunDir(run_dir) if run_dir else None
        self.resume_from = Path(resume_from) if resume_from else None
        self.control = control or Control()
        # live changes of training.probes.* (the worker's probe_config command)
        self.probe_config = ProbeConfig()
        # under torchrun every process trains; only rank 0 writes the run directory
        self.rank = int(os.environ.get("RANK", "0"))
        self.world_size = int(os.environ.get("WORLD_SIZE", "1"))
        self.notes: list[str] = []  # logged (info) when the run starts, as the warnings are
        self.init_report = None  # engine.train.finetune.InitReport when training.init_from is set
        self.ema: EMA | None = None
        self.callbacks = CallbackList(callbacks)
        self.position = Position()
        self.epochs: int = self.cfg["epochs"]
        self.finish_early = False  # set by a callback (early stopping) to end after this epoch
        self.last_checkpoint: str | None = None
        self.best: dict | None = None
        self.last_validation: ev.Validation | None = None
        self._ready = False
        self._epoch_seconds = 0.0  # training time of the epoch in progress before a resume
        self._epoch_t0 = time.time()

    # -- resuming ---------------------------------------------------------------------------
    @classmethod
    def resume(cls, run_dir: str | os.PathLike, *, epochs: int | None = None, device: str | None = None,
               callbacks: Iterable[Callback] = (), control: Control | None = None, check_running: bool = True,
               **kw) -> "Trainer":
        """A trainer that continues ``run_dir`` from its latest checkpoint (``epochs`` is the total).
        ``check_running=False`` where the writer is known to be gone (torchrun restarted it) or is
        checked by rank 0 (a heartbeat from another machine may look alive)."""
        run = open_run(run_dir)
        status = read_status(run.status)
        if check_running and effective_state(status) == "running":
            raise RunDirError(f"{run.path} is still running (pid {status.get('pid')}); stop it first", key="run_dir")
        ckpt = latest_checkpoint(run.checkpoints)
        if ckpt is None:
            raise RunDirError(f"{run.path} has no checkpoint to resume from", key="run_dir")
        try:
            project = from_dict(run.read_json(run.project))
        except LayerStudioError as e:
            raise RunDirError(f"{run.path}: project.json is not a valid project ({e.message})", key="run_dir") from None
        config = run.read_json(run.config)
        return cls(project, run_dir=run.path, overrides={"epochs": epochs, "device": device}, callbacks=callbacks,
                   control=control, base_dir=config.get("base_dir"), resume_from=ckpt.path,
                   project_path=config.get("project_path"), **kw)

    # -- set-up -----------------------------------------------------------------------------
    def setup(self) -> None:
        """Every check, then the model, data, optimizer; then (and only then) the run directory."""
        if self._ready:
            return
        cfg, graph = self.cfg, self.project.graph
        inference = Inference(graph, batch_size=cfg["batch_size"])
        preflight.check_graph(inference)
        input_id = self.project.input_node()
        self.device = resolve_device(cfg["device"])
        if self.world_size > 1:
            ddp.check_batch(cfg, self.world_size)
        self.warnings += check_options(cfg, self.device, world_size=self.world_size,
                                       writes_run=self.run is not None and self.rank == 0)
        if self.world_size > 1:
            self.device = ddp.init_distributed(self.device)
        if self.device.type == "cpu":
            keep_freed_memory()  # steps reuse their buffers instead of page-faulting them in again
        if cfg.get("threads"):
            torch.set_num_threads(cfg["threads"])
        self.dataset = open_dataset(self.project.dataset, input_shape=self.project.input_shape(),
                                    base_dir=self.base_dir, data_root=self.data_root, cache_dir=self.cache_dir)
        ds = self.dataset
        self.classes = [str(c) for c in ds.classes]
        preflight.check_input(inference, input_id, ds.sample_shape, getattr(ds, "dtype", "float32"))
        preflight.check_output(inference, ds.num_classes, self.classes)
        seed = cfg["seed"]
        # augmentation, residency and workers come from the dataset section (augment=None)
        # under DDP each process takes its share of every global batch (the same order everywhere)
        train_source = functools.partial(ddp.ShardedBatchSource, rank=self.rank, world=self.world_size) \
            if self.world_size > 1 else make_batch_source
        self.train_source = train_source(ds, "train", batch_size=cfg["batch_size"], device=self.device,
                                         seed=seed, train=True, augment=None)
        val = make_batch_source(ds, "val", batch_size=cfg["batch_size"], device=self.device, seed=seed,
                                train=False, augment=False)
        self.val_source = val if val.num_samples > 0 else None
        if self.train_source.num_samples == 0:
            raise ConfigError("the dataset has no training samples (is dataset.val_fraction too high?)",
                              key="dataset.val_fraction")
        # what one forward pass holds: a process's share of the batch, one micro-batch of it
        batch = max(min(cfg["batch_size"], self.train_source.num_samples)
                    // (self.world_size * cfg["gradient.accumulation"]), 1)
        preflight.check_memory(preflight.estimate_memory(inference, cfg, batch), available_memory(self.device),
                               str(self.device), cfg["batch_size"])
        out = preflight.output_node(inference)
        warning = final_softmax_warning(graph.nodes[out].type, out, cfg["loss"])
        if warning:
            self.warnings.append(warning)

        seed_everything(seed)
        self.model = build_module(graph)
        init_weights(self.model, cfg["init"])
        if cfg["init_from.run"] and self.resume_from is None:  # a resume has its own weights
            self.init_report = load_init_from(self.model, graph, cfg, self.base_dir)
            self.notes += self.init_report.lines()
        self.model.to(self.device)
        apply_layout(self.model, cfg, self.device)
        self.criterion = make_loss(cfg)
        self.optimizer = make_optimizer(self.model, cfg)
        self.batches_per_epoch = self.train_source.batches_per_epoch
        self.scheduler = make_scheduler(self.optimizer, cfg, self.batches_per_epoch)
        # what the step runs: the module, wrapped for DDP and/or compiled; everything else
        # (evaluation, probes, checkpoints) uses the plain module
        self.train_model = ddp.wrap(self.model, self.device) if self.world_size > 1 else self.model
        if cfg["compile"]:
            self.train_model = compiled(self.train_model)
        self.step_fn = TrainStep(self.train_model, self.criterion, self.optimizer, clip_norm=cfg["gradient.clip_norm"],
                                 accumulation=cfg["gradient.accumulation"], precision=cfg["mixed_precision"],
                                 device=self.device, channels_last=cfg["channels_last"],
                                 on_first_step=self._compiled if cfg["compile"] else None)
        if cfg["ema.decay"] > 0:
            self.ema = EMA(self.model, cfg["ema.decay"])
        self.eval_model = self.ema.module if self.ema is not None else self.model
        self._skipped_reported = 0
        self.metrics = StepMetrics(self.device)
        self._add_standard_callbacks()
        if self.resume_from is not None:
            self._restore(load_checkpoint(self.resume_from))
        self._prepare_run_dir()
        self._ready = True

    def _add_standard_callbacks(self) -> None:
        """The run's own callbacks go first: when a listener hears of a checkpoint or of the end,
        the run directory already says so."""
        cfg = self.cfg
        standard: list[Callback] = [EMAUpdate(self.ema)] if self.ema is not None else []
        if self.world_size > 1 and isinstance(self.control, ddp.AgreedControl):
            from engine.train.callbacks.stop_agreement import StopAgreement
            from engine.train.launch import STOP_FILE
            standard.append(StopAgreement(self.control, group=ddp.control_group(),
                                          stop_file=self.run.path / STOP_FILE if self.run and self.rank == 0 else None))
        if self.run is not None and self.rank == 0:
            standard.append(RunRecorder(self.run, epochs=self.epochs, resumed=self.resume_from is not None))
            standard.append(Checkpointing(self.run.checkpoints, keep_last=cfg["checkpoint.keep_last"],
                                          every=cfg["checkpoint.every"], monitor=cfg["monitor"]))
            if cfg["tensorboard"]:
                from engine.train.callbacks.tensorboard import FOLDER, TensorBoard
                standard.append(TensorBoard(self.run.path / FOLDER))
        if cfg["early_stopping.patience"] > 0:
            standard.append(EarlyStopping(cfg["monitor"], cfg["early_stopping.patience"],
                                          cfg["early_stopping.min_delta"]))
        standard += probe_callbacks(self, self.probe_config)  # rank 0 only
        self.callbacks = CallbackList(standard + self.callbacks.callbacks)

    def _prepare_run_dir(self) -> None:
        run = self.run
        if run is None or self.rank != 0:
            return
        if self.resume_from is None:
            run.create()
        else:
            run.clean_stale_temps()
            # rows written after the checkpoint (the run went on before it died) would repeat
            s, done = self.position.step, self.position.epoch
            keep_rows(run.metrics, lambda r: (r.get("step", 0) <= s) if r.get("split") != "val"
                      else (r.get("epoch", 0) <= done))
        write_json_atomic(run.project, self.project.to_dict())
        write_json_atomic(run.config, self.config_record())

    def config_record(self) -> dict[str, Any]:
        """config.json: the resolved configuration and what the run was set up with."""
        return {"format": CONFIG_FORMAT, "version": 1,
                "training": to_nested(self.cfg), "dataset": to_nested(self.data_cfg),
                "device": str(self.device), "threads": torch.get_num_threads(),
                "base_dir": str(self.base_dir), "project_path": str(self.project_path) if self.project_path else None,
                "classes": self.classes, "input_shape": list(self.project.input_shape() or []),
                "train_samples": self.train_source.num_samples,
                "val_samples": self.val_source.num_samples if self.val_source else 0,
                "batches_per_epoch": self.batches_per_epoch, "params": self.num_params(),
                "world_size": self.world_size,
                "init_from": self.init_report.as_dict() if self.init_report else None,
                "torch": str(torch.__version__), "written": time.time(),
                # what classify/attributions need to preprocess an image like training did
                "normalization": {"mean": [float(v) for v in self.dataset.mean],
                                  "std": [float(v) for v in self.dataset.std]}}

    def num_params(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    # -- checkpoints --------------------------------------------------------------------------
    def checkpoint_state(self) -> dict[str, Any]:
        m = self.metrics
        # "model" holds the weights validation measured (the moving average when training.ema
        # is on: what export and fine-tuning want); "train_model" then the trained ones
        weights = {"model": self.ema.state_dict(), "train_model": self.model.state_dict()} if self.ema else \
            {"model": self.model.state_dict()}
        return {**weights, "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(), "rng": capture_rng(),
                "position": self.position.as_dict(),
                "epoch_totals": {"loss_sum": m.epoch_loss_sum, "correct": m.epoch_correct, "count": m.epoch_count,
                                 "seconds": self._epoch_seconds + (time.time() - self._epoch_t0
                                                                   if self.position.batch else 0.0)},
                "callbacks": self.callbacks.state_dict(),
                "meta": {"classes": self.classes, "epochs": self.epochs, "torch": str(torch.__version__),
                         "time": time.time(), "best": self.best}}

    def _restore(self, state: dict[str, Any]) -> None:
        try:
            self.model.load_state_dict(state.get("train_model", state["model"]))
            if self.ema is not None:
                self.ema.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
        except (KeyError, RuntimeError, ValueError) as e:
            raise RunDirError(f"{self.resume_from} does not match this run's model ({type(e).__name__}: "
                              f"{str(e).splitlines()[0]})", key="checkpoint") from None
        pos = state["position"]
        self.position = Position(int(pos["epoch"]), int(pos["batch"]), int(pos["step"]))
        needed = self.position.epoch + (1 if self.position.batch else 0)
        if self.epochs < needed:
            raise ConfigError(f"training.epochs: the run has already reached epoch {needed}; to continue it, "
                              f"ask for more epochs than that (got {self.epochs})", key="training.epochs")
        totals = state.get("epoch_totals", {})
        self.metrics.reset_epoch(float(totals.get("loss_sum", 0.0)), int(totals.get("correct", 0)),
                                 int(totals.get("count", 0)))
        self._epoch_seconds = float(totals.get("seconds", 0.0))
        self.callbacks.load_state_dict(state.get("callbacks", {}))
        self.best = state.get("meta", {}).get("best")
        self.last_checkpoint = str(self.resume_from)
        restore_rng(state["rng"])  # last: nothing above may draw from the generators afterwards

    def write_checkpoint(self, path: str | os.PathLike, *, best: bool = False,
                         finalize: Callable[[], None] | None = None) -> None:
        """Save the current state to ``path`` (checked finite first: NaN weights are never saved)."""
        self._flush()
        self._check_weights_finite()
        try:
            save_checkpoint(path, self.checkpoint_state())
            if finalize is not None:
                finalize()
        except OSError as e:
            raise CheckpointWriteError(str(path), e) from e
        self.last_checkpoint = str(path)
        pos = self.position
        self.callbacks.call("on_checkpoint", self, ev.CheckpointSaved(
            str(path), pos.epoch if pos.batch == 0 else pos.epoch + 1, pos.step, best))

    def _check_weights_finite(self) -> None:
        params = [p for p in self.model.parameters()] + [b for b in self.model.buffers() if b.is_floating_point()]
        if params and not bool(torch.stack([torch.isfinite(p).all() for p in params]).all()):
            raise NonFiniteError(self.position.step, "weights")

    # -- events -----------------------------------------------------------------------------
    def log(self, message: str, level: str = "info") -> None:
        self.callbacks.call("on_log", self, ev.Log(level, message))

    def emit(self, event: ev.Event) -> None:
        """Send an extra event (a probe's images...) to every callback's ``on_event``."""
        self.callbacks.call("on_event", self, event)

    def _set_state(self, state: str) -> None:
        self.callbacks.call("on_state", self, ev.StateChanged(state))

    def _flush(self) -> None:
        event = self.metrics.flush(self.position.epoch + 1)
        if event is not None:
            event.images_per_s *= self.world_size  # every process trains on as many images as rank 0
            self.callbacks.call("on_metrics", self, event)
        if self.metrics.first_bad_step is not None:
            raise NonFiniteError(self.metrics.first_bad_step, "loss")

    def _on_flush(self) -> bool:
        """Called by the loop when a flush is due or a command is pending; False = stop now."""
        self._flush()
        if self.control.paused and self.control.stop_reason is None:
            t0 = time.time()
            self._set_state("paused")
            self.control.wait_while_paused()
            self._epoch_t0 += time.time() - t0  # a pause is not training time
            self.metrics.start_window()
            if self.control.stop_reason is None:
                self._set_state("running")
        return self.control.stop_reason is None

    # -- the run ----------------------------------------------------------------------------
    def started_event(self) -> ev.Started:
        return ev.Started(run_dir=str(self.run.path) if self.run else None, epochs=self.epochs,
                          batches_per_epoch=self.batches_per_epoch, train_samples=self.train_source.num_samples,
                          val_samples=self.val_source.num_samples if self.val_source else 0,
                          classes=self.classes, device=str(self.device), params=self.num_params(),
                          start_epoch=self.position.epoch + 1, start_step=self.position.step, pid=os.getpid())

    def fit(self) -> ev.Finished:
        self.setup()
        t0 = time.time()
        failure = None
        try:
            self.callbacks.call("on_fit_start", self, self.started_event())
            for w in self.warnings:
                self.log(w, "warning")
            for note in self.notes:
                self.log(note)
            self._set_state("running")
            while self.position.epoch < self.epochs and not self.finish_early:
                if not self._run_epoch():
                    break
            if self.control.stop_reason is not None:
                self._set_state("stopping")
                self.callbacks.call("on_stop", self, self.control.stop_reason)
                state = "stopped" if self.control.stop_reason == "stopped" else "interrupted"
            else:
                state = "finished"
        except BaseException as exc:  # classified and reported; the run directory stays consistent
            failure = self._classify(exc)
            self.callbacks.call("on_failure", self, ev.Error(failure))
            state = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        pos = self.position
        finished = ev.Finished(state=state, epoch=pos.epoch if pos.batch == 0 else pos.epoch + 1, step=pos.step,
                               run_dir=str(self.run.path) if self.run else None, checkpoint=self.last_checkpoint,
                               best=self.best, error=failure, seconds=time.time() - t0)
        self.callbacks.call("on_fit_end", self, finished)
        return finished

    def _classify(self, exc: BaseException) -> dict[str, Any]:
        step, ckpt = self.position.step, self.last_checkpoint
        if isinstance(exc, NonFiniteError):
            return failures.nonfinite(exc.step, exc.what, ckpt)
        if isinstance(exc, CheckpointWriteError):
            return failures.checkpoint_write(exc.cause, exc.path, step=step, checkpoint=ckpt)
        if isinstance(exc, KeyboardInterrupt):
            return failures.failure("interrupted", "interrupted before the checkpoint was written", step=step,
                                    checkpoint=ckpt, advice="Resume from the last checkpoint.")
        return failures.classify_exception(exc, step=step, checkpoint=ckpt)

    def _run_epoch(self) -> bool:
        """One epoch (the rest of it, on a resume). False when a stop was asked for."""
        pos, cfg = self.position, self.cfg
        number = pos.epoch + 1
        if pos.batch == 0:
            self.metrics.reset_epoch()
            self._epoch_seconds = 0.0
        self.callbacks.call("on_epoch_start", self, number)
        self.metrics.start_window()
        self._epoch_t0 = time.time()
        per_step = self.scheduler if is_per_step(cfg) else None
        hooks = [functools.partial(fn, self) for fn in self.callbacks.bound("on_batch_end")]
        done = train_one_epoch(self.step_fn, self.train_source, pos, self.metrics, self.control, self._on_flush,
                               scheduler=per_step, batch_hooks=hooks)
        if not done:
            return False
        self._flush()
        seconds = self._epoch_seconds + (time.time() - self._epoch_t0)
        m = self.metrics
        self.callbacks.call("on_train_epoch_end", self, ev.EpochEnd(
            epoch=number, epochs=self.epochs, step=pos.step, loss=m.epoch_loss, accuracy=m.epoch_accuracy,
            images_per_s=m.epoch_count * self.world_size / max(seconds, 1e-9), seconds=seconds, lr=self.step_fn.lr))
        if self.step_fn.scaler is not None:
            self._report_skipped_steps()
        if per_step is None:
            self.scheduler.step()
        if self.val_source is not None and (number % cfg["val_every"] == 0 or number == self.epochs):
            self._validate(number)
        pos.epoch, pos.batch = pos.epoch + 1, 0
        self._epoch_seconds = 0.0
        self.callbacks.call("on_epoch_end", self, number)
        return self.control.stop_reason is None

    def _validate(self, number: int) -> None:
        self.callbacks.call("on_validation_start", self, number)
        hooks = [functools.partial(fn, self) for fn in self.callbacks.bound("on_validation_batch")]
        loss, acc, confusion = evaluate(self.eval_model, self.criterion, self.val_source, len(self.classes), self.device,
                                        batch_hooks=hooks)
        event = ev.Validation(epoch=number, step=self.position.step, loss=loss, accuracy=acc, confusion=confusion,
                              classes=list(self.classes))
        self.last_validation = event
        self.callbacks.call("on_validation_end", self, event)

    # -- speed options ------------------------------------------------------------------------
    def _compiled(self, seconds: float) -> None:
        self.log(f"torch.compile: the first step took {seconds:.1f} s (compiling the model)")

    def _report_skipped_steps(self) -> None:
        """fp16's GradScaler skips a step whose gradients overflowed; say so once per epoch."""
        skipped = int(self.step_fn.skipped_steps)  # one read per epoch
        if skipped > self._skipped_reported:
            self.log(f"fp16: {skipped} optimizer step(s) skipped so far (inf/NaN gradients; loss scale now "
                     f"{self.step_fn.scaler.get_scale():g})", "warning" if skipped > 0.1 * self.position.step else "info")
            self._skipped_reported = skipped
