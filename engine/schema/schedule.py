"""The ``training.schedule`` settings: learning-rate schedules (see engine/schedule.py)."""
from engine.schema.base import setting

SCHEDULES = ("constant", "step", "multistep", "exponential", "cosine", "onecycle", "polynomial")
G = "Learning-rate schedule"

SCHEDULE_SETTINGS = [
    setting("schedule.type", "choice", "constant", "How the learning rate changes over training",
            group=G, choices=SCHEDULES),
    setting("schedule.unit", "choice", "epoch", "Whether the schedule advances per epoch or per optimizer step",
            group=G, choices=("epoch", "step")),
    setting("schedule.warmup", "int", 0, "Linear warm-up length (in schedule units) before the schedule starts",
            group=G, min=0, max=10**9),
    setting("schedule.warmup_start", "float", 0.1, "Warm-up starts at this fraction of the learning rate",
            group=G, min=0.0, max=1.0, min_exclusive=True),
    setting("schedule.step_size", "int", 10, "Multiply the rate by gamma every this many units", group=G,
            min=1, max=10**9, when={"schedule.type": ("step",)}),
    setting("schedule.gamma", "float", 0.1, "Factor applied at each step or milestone", group=G, min=0.0,
            max=1.0, min_exclusive=True, when={"schedule.type": ("step", "multistep")}),
    setting("schedule.milestones", "ints", [30, 60], "Units at which the rate is multiplied by gamma",
            group=G, min=1, max=10**9, when={"schedule.type": ("multistep",)}),
    setting("schedule.decay", "float", 0.05, "β in α = α0·e^(−βt)", group=G, min=0.0, max=100.0,
            when={"schedule.type": ("exponential",)}),
    setting("schedule.min_lr", "float", 0.0, "Lowest rate reached at the end of the cosine", group=G,
            min=0.0, max=100.0, when={"schedule.type": ("cosine",)}),
    setting("schedule.pct_start", "float", 0.3, "Fraction of training spent raising the rate", group=G,
            min=0.0, max=1.0, min_exclusive=True, when={"schedule.type": ("onecycle",)}),
    setting("schedule.div_factor", "float", 25.0, "Starting rate = peak / div_factor", group=G, min=1.0,
            max=1e6, when={"schedule.type": ("onecycle",)}),
    setting("schedule.final_div_factor", "float", 1e4, "Final rate = starting rate / final_div_factor",
            group=G, min=1.0, max=1e9, when={"schedule.type": ("onecycle",)}),
    setting("schedule.power", "float", 1.0, "Exponent of the polynomial decay to zero", group=G, min=0.0,
            max=100.0, min_exclusive=True, when={"schedule.type": ("polynomial",)}),
]
