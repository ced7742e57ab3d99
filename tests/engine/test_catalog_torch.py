"""Every catalog entry against the real torch: signature and defaults, output shapes over
grids of parameters (valid and invalid), parameter counts and FlopCounterMode FLOPs.

The shape rule must raise ShapeError exactly when torch raises, except where the catalog is
deliberately stricter (DESIGN.md conventions: dims never name the batch, float-only layers,
same-shape merges); those refusals are checked on their own below.
"""
from __future__ import annotations

import inspect
import itertools
import math
import random
import warnings

import pytest

torch = pytest.importorskip("torch")
import torch.fx as fx  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from engine.build.modules import make_module, module_class, returns_tuple  # noqa: E402
from engine.build.ops import GRAPH_OPS  # noqa: E402
from engine.catalog import CATALOG, CATEGORIES, TensorMeta  # noqa: E402
from engine.errors import ParamError, ShapeError  # noqa: E402

# torch keyword arguments the catalog leaves out, and why.
EVERYWHERE = {"device", "dtype"}  # built on the CPU in float32; the trainer moves the model
EXCLUDED = {
    "MaxPool1d": {"return_indices"},  # a tuple output has no place in a graph of tensors
    "MaxPool2d": {"return_indices"},
    "AdaptiveMaxPool1d": {"return_indices"},
    "AdaptiveMaxPool2d": {"return_indices"},
    "BatchNorm1d": {"bias"},  # keyword-only, newer than torch 2.6 (affine covers it)
    "BatchNorm2d": {"bias"},
    "GroupNorm": {"bias"},
    "Embedding": {"_weight", "_freeze", "sparse"},  # private; sparse grads break Adam & co
    "LSTM": {"mode", "batch_first"},  # mode is the class; batch_first is always True
    "GRU": {"mode", "batch_first", "proj_size"},  # proj_size: LSTM only (GRU raises)
}
# Exclusions that older supported torch versions do not have at all.
NEWER_THAN_2_6 = {"BatchNorm1d": {"bias"}, "BatchNorm2d": {"bias"}, "GroupNorm": {"bias"}}
# Defaults that differ from torch's, and why.
DEFAULT_DIFFERS = {
    ("Softmax", "dim"): "torch's None picks a dim implicitly (deprecated; the batch for 3-D)",
    ("LogSoftmax", "dim"): "same as Softmax",
    ("Upsample", "scale_factor"): "torch's None leaves the layer unusable until a size is set",
}
GRAPH_OP_TYPES = {"Input", "Add", "Multiply", "Concat", "Transpose", "Permute"}
REQUIRED_TYPES = set("""Input Linear Conv1d Conv2d ConvTranspose2d Flatten Identity ReLU ReLU6 LeakyReLU ELU
GELU SiLU Hardswish Hardsigmoid Sigmoid Tanh Softmax LogSoftmax MaxPool1d MaxPool2d AvgPool1d AvgPool2d
AdaptiveAvgPool1d AdaptiveAvgPool2d AdaptiveMaxPool2d BatchNorm1d BatchNorm2d LayerNorm GroupNorm Dropout
Dropout2d Upsample Embedding LSTM GRU Add Concat Multiply""".split())

BATCH = 2
pytestmark = pytest.mark.filterwarnings("ignore:TF32 acceleration on top of oneDNN")


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny tensors: a second intra-op thread only adds sync cost (10x on a busy machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def torch_kwargs(type_: str) -> dict[str, inspect.Parameter]:
    cls = module_class(CATALOG[type_])
    init = torch.nn.RNNBase.__init__ if type_ in ("LSTM", "GRU") else cls.__init__
    return {n: p for n, p in inspect.signature(init).parameters.items()
            if n != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


# -- static data ---------------------------------------------------------------------------
def test_catalog_has_every_required_type():
    assert REQUIRED_TYPES <= set(CATALOG)
    assert {t for t, s in CATALOG.items() if s.torch_class is None} == GRAPH_OP_TYPES


@pytest.mark.parametrize("type_", sorted(CATALOG))
def test_entry_is_well_formed(type_):
    spec = CATALOG[type_]
    assert spec.category in CATEGORIES and spec.doc and "\n" not in spec.doc
    assert set(spec.key_params) <= set(spec.param_index)
    for p in spec.params:
        assert p.doc and "\n" not in p.doc and len(p.doc) < 120, p.name
        if p.default is not None:
            p.validate(p.default)  # the default is inside its own range / choices
        if p.kind in ("int", "float", "ints", "floats"):
            assert p.min is not None and p.max is not None, f"{p.name} needs a range"
    spec.validate_params({})


@pytest.mark.parametrize("type_", sorted(set(CATALOG) - GRAPH_OP_TYPES))
def test_signature_matches_torch(type_):
    spec = CATALOG[type_]
    theirs = torch_kwargs(type_)
    ours = set(spec.param_index) | set(spec.inferred)
    excluded = (EVERYWHERE | EXCLUDED.get(type_, set())) & set(theirs)
    unknown = EXCLUDED.get(type_, set()) - set(theirs)
    assert unknown <= NEWER_THAN_2_6.get(type_, set()), f"exclusions torch does not have: {unknown}"
    assert ours | excluded == set(theirs), f"ours {sorted(ours)} vs torch {sorted(theirs)}"
    assert not ours & excluded
    for name, p in spec.param_index.items():
        default = theirs[name].default
        if default is inspect.Parameter.empty:  # required in torch: ours gives a usable one
            assert p.default is not None, name
        elif (type_, name) in DEFAULT_DIFFERS:
            assert p.validate(p.default) != (p.validate(default) if default is not None else None)
        else:
            norm = p.validate(default) if default is not None else None
            assert spec.defaults()[name] == norm, f"{name}: ours {p.default!r}, torch {default!r}"


def test_documented_default_differences_are_real():
    for type_, name in DEFAULT_DIFFERS:
        assert name in CATALOG[type_].param_index


# -- running the rule and torch side by side ------------------------------------------------
def _tensor(meta: TensorMeta, vocab: int = 5) -> torch.Tensor:
    if meta.dtype == "int64":
        return torch.randint(0, vocab, (BATCH, *meta.shape))
    return torch.randn(BATCH, *meta.shape)


def run_torch(type_: str, params: dict, metas: list[TensorMeta]):
    """(output shape without batch, parameter count, FLOPs per sample) from real torch."""
    spec = CATALOG[type_]
    vocab = params.get("num_embeddings", 5)
    xs = [_tensor(m, vocab) for m in metas]
    if type_ in GRAPH_OPS:
        g = fx.Graph()
        phs = [g.placeholder(f"x{i}") for i in range(len(xs))]
        g.output(GRAPH_OPS[type_](g, "y", params, phs))
        module = fx.GraphModule(torch.nn.Module(), g)
    else:
        module = make_module(spec, params, metas)
    module.eval()
    # oneDNN's fused LSTM is invisible to FlopCounterMode; the op-by-op path is what we count
    with torch.backends.mkldnn.flags(enabled=False), torch.no_grad(), FlopCounterMode(display=False) as fc:
        y = module(*xs)
    if returns_tuple(spec):
        y = y[0]
    flops = fc.get_total_flops()
    assert flops % BATCH == 0
    return tuple(y.shape[1:]), sum(p.numel() for p in module.parameters()), flops // BATCH


TORCH_ERRORS = (RuntimeError, ValueError, IndexError, NotImplementedError, AssertionError, TypeError,
                ZeroDivisionError)


def agree(type_: str, params: dict, shapes, dtype: str = "float32") -> str:
    """Check rule and torch agree on one case; returns "valid", "invalid" or "deliberate"."""
    spec = CATALOG[type_]
    full = spec.validate_params(params)
    metas = [TensorMeta(tuple(s), dtype) for s in shapes]
    try:
        cost = spec.run(full, metas)
    except ShapeError as e:
        if "is the batch dimension" in e.message or "flattening the batch" in e.message:
            return "deliberate"  # torch would mix samples; see test_deliberate_refusals_...
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                shape = run_torch(type_, full, metas)[0]
            except TORCH_ERRORS:
                shape = None
        # torch raised, or (nearest 3-D upsampling) returned an empty tensor, which we refuse too
        assert shape is None or 0 in shape, f"{type_} {params} on {shapes}: rule raised {e}, torch gave {shape}"
        assert e.message and "Traceback" not in e.message
        return "invalid"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            shape, n_params, flops = run_torch(type_, full, metas)
        except TORCH_ERRORS as e:
            pytest.fail(f"{type_} {params} on {shapes}: rule accepted, torch raised {e!r}")
    where = f"{type_} {params} on {shapes}"
    assert cost.out.shape == shape, where
    assert cost.params == n_params, where
    assert cost.flops == flops, where
    assert cost.elementwise >= 0
    return "valid"


def grid(seed: int, limit: int, **axes):
    """Deterministic sample of at most ``limit`` combinations of the axes."""
    keys = list(axes)
    combos = list(itertools.product(*axes.values()))
    if len(combos) > limit:
        combos = random.Random(seed).sample(combos, limit)
    return [dict(zip(keys, c)) for c in combos]


def run_grid(type_, cases) -> dict:
    """cases: (params, shapes) pairs. Both outcomes must occur so the grid tests something."""
    seen = {"valid": 0, "invalid": 0, "deliberate": 0}
    for params, shapes in cases:
        seen[agree(type_, params, shapes)] += 1
    return seen


def split(case: dict):
    shapes = case.pop("shapes")
    return {k: v for k, v in case.items() if v is not _UNSET}, shapes


_UNSET = object()


# -- grids --------------------------------------------------------------------------------
CONV_CASES = {
    "Conv1d": dict(kernel_size=[1, 3, 5], stride=[1, 2, 3], padding=[0, 2], dilation=[1, 2], groups=[1, 2],
                   padding_mode=["zeros", "reflect", "circular", "replicate"], bias=[True, False],
                   shapes=[[(4, 6)], [(4, 3)], [(3, 9)], [(2, 1)]]),
    "Conv2d": dict(kernel_size=[1, 3, (2, 3)], stride=[1, 2, (1, 3)], padding=[0, 1, (2, 0)], dilation=[1, 2],
                   groups=[1, 2], padding_mode=["zeros", "reflect", "circular"], bias=[True, False],
                   shapes=[[(4, 7, 7)], [(4, 5, 9)], [(2, 2, 2)], [(3, 4, 4)]]),
    "ConvTranspose2d": dict(kernel_size=[1, 3, (2, 3)], stride=[1, 2, (3, 1)], padding=[0, 1, 3],
                            output_padding=[0, 1, (1, 0)], dilation=[1, 2], groups=[1, 2],
                            shapes=[[(4, 5, 5)], [(4, 1, 3)], [(3, 4, 2)]]),
}


@pytest.mark.parametrize("type_", sorted(CONV_CASES))
def test_convolutions_agree_with_torch(type_):
    cases = [split(c) for c in grid(1, 160, out_channels=[2, 6], **CONV_CASES[type_])]
    seen = run_grid(type_, cases)
    assert seen["valid"] > 40 and seen["invalid"] > 5, seen


POOL_CASES = {
    "MaxPool1d": dict(kernel_size=[1, 2, 3], stride=[None, 1, 2], padding=[0, 1], dilation=[1, 2],
                      ceil_mode=[False, True], shapes=[[(2, 7)], [(3, 2)], [(1, 5)]]),
    "MaxPool2d": dict(kernel_size=[1, 2, 3, (2, 3)], stride=[None, 1, 2, (2, 1)], padding=[0, 1],
                      dilation=[1, 2], ceil_mode=[False, True], shapes=[[(2, 7, 7)], [(2, 5, 6)], [(1, 2, 2)]]),
    "AvgPool1d": dict(kernel_size=[1, 2, 3], stride=[None, 1, 2], padding=[0, 1], ceil_mode=[False, True],
                      count_include_pad=[True, False], shapes=[[(2, 7)], [(3, 2)], [(1, 5)]]),
    "AvgPool2d": dict(kernel_size=[1, 2, 3, (2, 3)], stride=[None, 1, 2], padding=[0, 1, (1, 0)],
                      ceil_mode=[False, True], count_include_pad=[True, False], divisor_override=[None, 3],
                      shapes=[[(2, 7, 7)], [(2, 5, 6)], [(1, 2, 2)]]),
    "AdaptiveAvgPool1d": dict(output_size=[1, 3, 8], shapes=[[(2, 7)], [(3, 1)]]),
    "AdaptiveMaxPool1d": dict(output_size=[1, 3, 8], shapes=[[(2, 7)], [(3, 1)]]),
    "AdaptiveAvgPool2d": dict(output_size=[1, 3, (2, 5)], shapes=[[(2, 7, 7)], [(3, 1, 4)]]),
    "AdaptiveMaxPool2d": dict(output_size=[1, 3, (2, 5)], shapes=[[(2, 7, 7)], [(3, 1, 4)]]),
}


@pytest.mark.parametrize("type_", sorted(POOL_CASES))
def test_pooling_agrees_with_torch(type_):
    cases = [split(c) for c in grid(2, 120, **POOL_CASES[type_])]
    seen = run_grid(type_, cases)
    assert seen["valid"] >= 6, seen
    if not type_.startswith("Adaptive"):
        assert seen["invalid"] > 3, seen


SHAPES_ANY = [[(5,)], [(3, 4)], [(2, 3, 4)]]
ACT_CASES = {
    "ReLU": dict(inplace=[False, True]), "ReLU6": dict(inplace=[False, True]),
    "LeakyReLU": dict(negative_slope=[0.0, 0.2], inplace=[False, True]),
    "ELU": dict(alpha=[0.5, 1.0], inplace=[False, True]), "GELU": dict(approximate=["none", "tanh"]),
    "SiLU": dict(inplace=[False, True]), "Hardswish": dict(inplace=[False]), "Hardsigmoid": dict(inplace=[True]),
    "Sigmoid": {}, "Tanh": {}, "Identity": {},
    "Softmax": dict(dim=[-1, 1, 2, -2, 3, 4, -4]), "LogSoftmax": dict(dim=[-1, 1, 3, -4]),
    "Dropout": dict(p=[0.0, 0.5], inplace=[False, True]),
    "LayerNorm": dict(eps=[1e-5, 0.1], elementwise_affine=[True, False], bias=[True, False]),
    "Flatten": dict(start_dim=[1, 2, 3, -1, -2], end_dim=[-1, 1, 2, 3, 4]),
    "Transpose": dict(dim0=[1, 2, -1, 3], dim1=[1, 2, -2, -1, 4]),
    "Linear": dict(out_features=[1, 7], bias=[True, False]),
}


@pytest.mark.parametrize("type_", sorted(ACT_CASES))
def test_shape_keeping_and_last_dim_layers_agree_with_torch(type_):
    cases = [split(c) for c in grid(3, 60, shapes=SHAPES_ANY, **ACT_CASES[type_])]
    seen = run_grid(type_, cases)
    assert seen["valid"] >= 3, seen


def test_permute_agrees_with_torch():
    dims = [(0, 2, 1), (0, 1, 2), (0, -1, 1), (0, 3, 1, 2), (0, 2, 3, 1), (0, 1, 1), (0, 2, 3), (0, 1)]
    cases = [({"dims": d}, s) for d in dims for s in ([(3, 4)], [(2, 3, 4)])]
    seen = run_grid("Permute", cases)
    assert seen["valid"] >= 4 and seen["invalid"] >= 4, seen


def test_normalization_agrees_with_torch():
    bn = grid(4, 40, eps=[1e-5, 1e-3], momentum=[None, 0.1], affine=[True, False],
              track_running_stats=[True, False], shapes=[[(4,)], [(4, 5)], [(4, 3, 3)]])
    seen = run_grid("BatchNorm1d", [split(dict(c)) for c in bn])
    assert seen["valid"] >= 10 and seen["invalid"] >= 3, seen
    seen = run_grid("BatchNorm2d", [split(dict(c)) for c in bn])
    assert seen["valid"] >= 5 and seen["invalid"] >= 5, seen
    gn = grid(5, 40, num_groups=[1, 2, 3, 4], affine=[True, False],
              shapes=[[(4,)], [(6, 5)], [(4, 3, 3)], [(6, 2, 2, 2)]])
    seen = run_grid("GroupNorm", [split(c) for c in gn])
    assert seen["valid"] >= 10 and seen["invalid"] >= 3, seen


def test_dropout2d_agrees_with_torch():
    assert run_grid("Dropout2d", [({"p": p}, [(3, 4, 4)]) for p in (0.0, 0.3)])["valid"] == 2


def test_upsample_agrees_with_torch():
    common = dict(mode=["nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear"],
                  align_corners=[None, True, False], shapes=[[(2, 5)], [(2, 4, 6)], [(1, 3, 4, 5)]])
    by_size = grid(6, 60, size=[3, (4, 7), (2, 3, 4)], scale_factor=[None], recompute_scale_factor=[None, True],
                   **common)
    by_scale = grid(6, 100, size=[None], scale_factor=[2.0, 0.5, 1.7, (2.0, 3.0), 0.1],
                    recompute_scale_factor=[None, True, False], **common)
    both_or_neither = grid(6, 20, size=[None, 3], scale_factor=[None, 2.0], **common)
    seen = run_grid("Upsample", [split(c) for c in by_size + by_scale + both_or_neither])
    assert seen["valid"] >= 20 and seen["invalid"] >= 50, seen


def test_embedding_agrees_with_torch():
    cases = grid(7, 60, num_embeddings=[5, 50], embedding_dim=[1, 3], padding_idx=[None, 0, 4, -5, 5, -6],
                 max_norm=[None, 1.0], shapes=[[(6,)], [(2, 3)]])
    seen = {"valid": 0, "invalid": 0, "deliberate": 0}
    for c in cases:
        params, shapes = split(c)
        seen[agree("Embedding", params, shapes, dtype="int64")] += 1
    assert seen["valid"] >= 10 and seen["invalid"] >= 3, seen


@pytest.mark.parametrize("type_", ["LSTM", "GRU"])
def test_recurrent_agrees_with_torch(type_):
    axes = dict(hidden_size=[4, 6], num_layers=[1, 2], bidirectional=[False, True], bias=[True, False],
                dropout=[0.0, 0.25], shapes=[[(5, 3)], [(1, 7)]])
    if type_ == "LSTM":
        axes["proj_size"] = [0, 2, 4]
    seen = run_grid(type_, [split(c) for c in grid(8, 40, **axes)])
    assert seen["valid"] >= 20, seen
    if type_ == "LSTM":
        assert seen["invalid"] >= 1, seen


MERGE_SHAPES = [[(2, 3, 4), (5, 3, 4)], [(2, 3), (2, 5)], [(3, 4), (3, 4), (3, 4)], [(2, 3), (2, 3, 1)],
                [(3, 4), (4, 3)], [(6,), (6,)]]


@pytest.mark.parametrize("type_", ["Add", "Multiply", "Concat"])
def test_merges_agree_with_torch(type_):
    dims = {"dim": [1, 2, -1, -2, 3]} if type_ == "Concat" else {}
    cases = [split(c) for c in grid(9, 40, shapes=MERGE_SHAPES, **dims)]
    seen = run_grid(type_, cases)
    assert seen["valid"] >= 2 and seen["invalid"] >= 2, seen


def test_merges_promote_dtypes_like_torch():
    metas = [TensorMeta((3,), "int64"), TensorMeta((3,), "float32")]
    assert CATALOG["Add"].run({}, metas).out.dtype == "float32"
    assert CATALOG["Concat"].run({"dim": 1}, metas[:1] * 2).out.dtype == "int64"
    assert (torch.zeros(1, 3, dtype=torch.int64) + torch.zeros(1, 3)).dtype == torch.float32


# -- hand formulas ------------------------------------------------------------------------
def test_conv_flops_follow_the_hand_formula():
    spec = CATALOG["Conv2d"]
    for cin, cout, k, g, s, p in [(3, 16, 3, 1, 1, 1), (8, 16, 5, 4, 2, 0), (6, 6, 1, 6, 1, 0)]:
        params = spec.validate_params({"out_channels": cout, "kernel_size": k, "groups": g, "stride": s,
                                       "padding": p})
        cost = spec.run(params, [TensorMeta((cin, 32, 32))])
        _, hout, wout = cost.out.shape
        assert cost.flops == 2 * cout * (cin // g) * k * k * hout * wout
        assert cost.params == cout * (cin // g) * k * k + cout
        agree("Conv2d", params, [(cin, 32, 32)])


def test_linear_and_recurrent_flops_follow_the_hand_formulas():
    cost = CATALOG["Linear"].run({"out_features": 7, "bias": True}, [TensorMeta((4, 5))])
    assert (cost.flops, cost.params) == (2 * 4 * 5 * 7, 5 * 7 + 7)
    lstm = CATALOG["LSTM"].validate_params({"hidden_size": 16})
    cost = CATALOG["LSTM"].run(lstm, [TensorMeta((5, 8))])
    assert cost.flops == 2 * 5 * 4 * 16 * (8 + 16)  # L steps of x·W_ih and h·W_hh, 4 gates
    assert cost.params == 4 * 16 * (8 + 16) + 2 * 4 * 16
    gru = CATALOG["GRU"].validate_params({"hidden_size": 16, "bidirectional": True})
    cost = CATALOG["GRU"].run(gru, [TensorMeta((5, 8))])
    assert cost.flops == 2 * 2 * 5 * 3 * 16 * (8 + 16)
    assert cost.out.shape == (5, 32)


# -- deliberate refusals (torch would accept; our conventions refuse) -------------------------
@pytest.mark.parametrize("type_, params, shapes, dtype, words", [
    ("Softmax", {"dim": 0}, [(3, 4)], "float32", "batch"),
    ("Concat", {"dim": 0}, [(3,), (3,)], "float32", "batch"),
    ("Flatten", {"start_dim": 0}, [(3, 4)], "float32", "batch"),
    ("Flatten", {"start_dim": -3}, [(3, 4)], "float32", "batch"),
    ("Transpose", {"dim0": 0, "dim1": 1}, [(3, 4)], "float32", "batch"),
    ("Permute", {"dims": [1, 0, 2]}, [(3, 4)], "float32", "batch"),
    ("Add", {}, [(3, 1), (3, 4)], "float32", "shapes [3, 1] and [3, 4]"),
    ("ReLU", {}, [(3,)], "int64", "float"),
    ("Linear", {}, [(3,)], "int64", "float"),
    ("Embedding", {}, [(3,)], "float32", "int64"),
    ("Dropout2d", {}, [(3, 4)], "float32", "[C, H, W]"),
    ("LSTM", {}, [(8,)], "float32", "[L, features]"),
    ("GRU", {}, [(2, 8, 3)], "float32", "[L, features]"),
    ("Conv2d", {}, [(3, 8)], "float32", "[C, H, W]"),
    ("Conv1d", {}, [(3, 8, 8)], "float32", "[C, L]"),
    ("MaxPool2d", {}, [(3, 8)], "float32", "[C, H, W]"),
    ("BatchNorm2d", {}, [(3, 8)], "float32", "[C, H, W]"),
])
def test_deliberate_refusals_explain_themselves(type_, params, shapes, dtype, words):
    spec = CATALOG[type_]
    with pytest.raises(ShapeError) as e:
        spec.run(spec.validate_params(params), [TensorMeta(s, dtype) for s in shapes])
    assert words in e.value.message


def test_transposed_conv_offers_only_zeros_padding():
    with pytest.raises(ParamError):
        CATALOG["ConvTranspose2d"].validate_params({"padding_mode": "reflect"})
    with pytest.raises(ValueError):
        torch.nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")


# -- huge layers are arithmetic, not allocation ---------------------------------------------
def test_huge_shapes_are_instant():
    import time
    t0 = time.perf_counter()
    conv = CATALOG["Conv2d"]
    cost = conv.run(conv.validate_params({"out_channels": 1024, "kernel_size": 7}), [TensorMeta((512, 10**6, 10**6))])
    assert math.prod(cost.out.shape) > 10**15
    lin = CATALOG["Linear"].run({"out_features": 10**6, "bias": True}, [TensorMeta((10**6, 4096))])
    assert math.prod(lin.out.shape) == 10**12
    up = CATALOG["Upsample"]
    assert up.run(up.validate_params({"scale_factor": 1000.0}), [TensorMeta((3, 10**5, 10**5))]).out.shape == (3, 10**8, 10**8)
    lstm = CATALOG["LSTM"]
    assert lstm.run(lstm.validate_params({"hidden_size": 4096, "num_layers": 64}), [TensorMeta((10**9, 4096))]).flops > 10**18
    assert time.perf_counter() - t0 < 0.05
