"""The training engine (torch; child processes and the CLI only, never the GUI process).

Modules, one concept each: ``trainer`` (set up a run and drive it), ``loop`` (train_one_epoch /
evaluate, in the style of torchvision's reference), ``step`` (one optimizer step), ``metrics``
(per-step values kept on the device, flushed as arrays), ``optim`` / ``schedule`` / ``loss``
(factories keyed on the schema), ``checkpoint`` + ``rng`` (exact resume), ``preflight`` (checks
before the first step), ``control`` (pause/stop from another thread or a signal), ``callbacks/``
(everything around the loop). This __init__ imports nothing so importing a submodule stays cheap.
"""
