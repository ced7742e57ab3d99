"""Qt clients of the engine processes: events become signals on the GUI thread, and no call
ever blocks on a child. No torch here (the GUI process never imports it).

    engine = EngineService(parent)      # the fork server + the engine service, started in the background
    run = TrainingRun(engine, project=doc.project.to_dict(), project_path=path)
    run.metrics.connect(plot.append); run.start()
"""
from studio.services.engine_client import EngineService
from studio.services.training_run import TrainingRun

__all__ = ["EngineService", "TrainingRun"]
