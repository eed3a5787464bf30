"""cnn.receptive_field against the seed's AlexNet/VGG/ZF script (003, appendix B), the
published receptive fields, real padded convolutions in torch, and the seed's errors."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import engine.kinds.receptive_field  # noqa: F401  (registers the kind)

KIND = "cnn.receptive_field"

# The seed script's layer lists, [filter size, stride, padding].
ALEXNET = [[11, 4, 0], [3, 2, 0], [5, 1, 2], [3, 2, 0], [3, 1, 1], [3, 1, 1], [3, 1, 1],
           [3, 2, 0]]  # conv1, pool1, conv2, pool2, conv3, conv4, conv5, pool5
VGG16 = [[3, 1, 1], [3, 1, 1], [2, 2, 0], [3, 1, 1], [3, 1, 1], [2, 2, 0], [3, 1, 1], [3, 1, 1],
         [3, 1, 1], [2, 2, 0], [3, 1, 1], [3, 1, 1], [3, 1, 1], [2, 2, 0], [3, 1, 1], [3, 1, 1],
         [3, 1, 1], [2, 2, 0]]  # conv1_1 .. pool5
ZF5 = [[7, 2, 3], [3, 2, 1], [5, 2, 2], [3, 2, 1], [3, 1, 1], [3, 1, 1], [3, 1, 1]]


def seed_out_from_in(isz, net, layernum):
    """The seed's outFromIn, in Python 3 (its `/` on ints was Python 2 floor division)."""
    totstride, insize = 1, isz
    for layer in range(layernum):
        fsize, stride, pad = net[layer]
        outsize = (insize - fsize + 2 * pad) // stride + 1
        insize = outsize
        totstride = totstride * stride
    return outsize, totstride


def seed_in_from_out(net, layernum):
    """The seed's inFromOut: walk back from one unit, RF = (RF - 1) * stride + fsize."""
    rf = 1
    for layer in reversed(range(layernum)):
        fsize, stride, _ = net[layer]
        rf = ((rf - 1) * stride) + fsize
    return rf


def column(answer, key):
    return [row[key] for row in answer["layers_out"]]


def test_alexnet_published_values_on_227():
    s = engine.solve(KIND, {"layers": ALEXNET, "in_size": 227})
    assert column(s.answer, "receptive_field") == [11, 19, 51, 67, 99, 131, 163, 195]
    assert column(s.answer, "output_size") == [55, 27, 27, 13, 13, 13, 13, 6]
    assert column(s.answer, "total_stride") == [4, 8, 8, 16, 16, 16, 16, 32]
    assert s.answer["receptive_field"] == 195
    assert s.verification.passed


def test_vgg16_pool5_is_212_on_224():
    s = engine.solve(KIND, {"layers": VGG16})  # in_size defaults to 224
    assert column(s.answer, "receptive_field") == [3, 5, 6, 10, 14, 16, 24, 32, 40, 44, 60, 76,
                                                   92, 100, 132, 164, 196, 212]
    assert column(s.answer, "output_size")[-1] == 7
    assert column(s.answer, "total_stride")[-1] == 32
    assert s.answer["receptive_field"] == 212


@pytest.mark.parametrize(("net", "in_size"), [(ALEXNET, 227), (ALEXNET, 224), (VGG16, 224),
                                              (ZF5, 224)])
def test_agrees_with_the_seed_script_layer_by_layer(net, in_size):
    answer = engine.solve(KIND, {"layers": net, "in_size": in_size}).answer
    for i, row in enumerate(answer["layers_out"], start=1):
        size, stride = seed_out_from_in(in_size, net, i)
        assert (row["output_size"], row["total_stride"]) == (size, stride)
        assert row["receptive_field"] == seed_in_from_out(net, i)


def test_alexnet_on_224_does_not_divide_evenly():
    # (224 - 11) / 4 = 53.25: the seed's 224 input only works through Python 2's floor
    # division (conv1 gives 54, not 55); the receptive fields do not depend on the input size.
    s = engine.solve(KIND, {"layers": ALEXNET, "in_size": 224})
    assert (224 - 11) % 4 != 0
    assert column(s.answer, "output_size") == [54, 26, 26, 12, 12, 12, 12, 5]
    assert s.answer["receptive_field"] == 195


def test_seven_times_two_to_the_sixth_is_448_not_228():
    # Seed (CNN-18): "7 × 2^6 = 228". Six halvings take 448, not 228, down to 7.
    halve = [2, 2, 0]
    sizes = {n: column(engine.solve(KIND, {"layers": [halve] * d, "in_size": n}).answer,
                       "output_size")[-1] for n, d in [(224, 5), (448, 6), (228, 6)]}
    assert sizes == {224: 7, 448: 7, 228: 3}
    assert 7 * 2**6 == 448


def test_receptive_field_grows_linearly_without_striding():
    # Seed (CNN-12): "the receptive field grows exponentially" holds only with striding.
    for depth in range(1, 8):
        plain = engine.solve(KIND, {"layers": [[3, 1, 1]] * depth, "in_size": 64}).answer
        strided = engine.solve(KIND, {"layers": [[3, 2, 1]] * depth, "in_size": 256}).answer
        assert plain["receptive_field"] == 2 * depth + 1
        assert strided["receptive_field"] == 2 ** (depth + 1) - 1


def test_misconceptions_for_vgg16():
    s = engine.solve(KIND, {"layers": VGG16})
    wrong = {m.key: m.answer["receptive_field"] for m in s.misconceptions}
    kernels = [k for k, _, _ in VGG16]
    assert wrong["ignored_strides"] == 1 + sum(k - 1 for k in kernels) == 32
    assert wrong["added_kernels"] == sum(kernels) == 49
    assert wrong["multiplied_kernels"] == 3**13 * 2**5


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"layers": [[3, 1, 0], [3, 1, 0], [5, 1, 0]], "in_size": 8}, "'layers': layer 3 "),
        ({"layers": [[3, 0, 0]]}, "'layers': layer 1 "),
        ({"layers": [[3, 1, 1]] * 65}, "'layers': 65 layers"),
        ({"layers": [[3, 1]]}, "'layers'"),
        ({"layers": [[3, 1, -1]]}, "'layers'"),
        ({"layers": [[2, 2, 0]] * 13, "in_size": 100_000}, "'layers': layer 13 "),
        ({"layers": [[3, 1, 1]], "in_size": 0}, "'in_size'"),
    ],
)
def test_invalid_params_name_the_parameter_and_layer(params, match):
    with pytest.raises(ValueError, match=f"parameter {match}"):
        engine.solve(KIND, params)


def test_trace_has_one_step_per_layer():
    s = engine.solve(KIND, {"layers": ALEXNET, "in_size": 227})
    assert len(s.steps) == len(ALEXNET) + 2
    assert s.steps[-1].values == {"first": 0, "last": 194, "receptive_field": 195}


def test_samples_are_reproducible():
    for seed in range(30):
        p = engine.sample_params(KIND, seed)
        assert p == engine.sample_params(KIND, seed)
        assert 2 <= len(p["layers"]) <= 5


def test_batch_equals_solve():
    ps = [engine.sample_params(KIND, seed) for seed in range(200)]
    for p, answer in zip(ps, engine.solve_batch(KIND, ps), strict=True):
        assert answer == engine.solve(KIND, p).answer


def torch_oracle(layers, in_size):
    """Output sizes of real padded convolutions, and the width of the input-gradient support of
    a unit in the middle of a long input (far from the borders)."""
    sizes, n = [], in_size
    for k, s, p in layers:
        n = F.conv1d(torch.zeros(1, 1, n), torch.zeros(1, 1, k), stride=s, padding=p).shape[-1]
        sizes.append(n)
    x = torch.zeros(1, 1, 4000, dtype=torch.float64, requires_grad=True)
    h = x
    for k, s, p in layers:
        h = F.conv1d(h, torch.ones(1, 1, k, dtype=torch.float64), stride=s, padding=p)
    (grad,) = torch.autograd.grad(h[0, 0, h.shape[-1] // 2], x)
    support = grad.flatten().nonzero().flatten()
    return sizes, int(support[-1] - support[0]) + 1


layer = st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(0, 2)).map(list)


@settings(max_examples=40, deadline=None)
@given(layers=st.lists(layer, min_size=1, max_size=5), in_size=st.integers(4, 200))
def test_any_stack_matches_real_padded_convolutions(layers, in_size):
    n = in_size
    for k, s, p in layers:
        if k > n + 2 * p:  # the window no longer fits: refused, naming the layer
            with pytest.raises(ValueError, match="parameter 'layers': layer "):
                engine.solve(KIND, {"layers": layers, "in_size": in_size})
            return
        n = (n + 2 * p - k) // s + 1
    sizes, rf = torch_oracle(layers, in_size)
    s = engine.solve(KIND, {"layers": layers, "in_size": in_size})
    assert column(s.answer, "output_size") == sizes
    assert s.answer["receptive_field"] == rf
    assert s.verification.passed
