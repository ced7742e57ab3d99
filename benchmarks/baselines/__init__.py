"""Plain PyTorch baselines the benchmarks compare LayerStudio against."""
