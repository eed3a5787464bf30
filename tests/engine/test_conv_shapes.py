"""conv2d.output_size, conv_transpose2d.output_size and conv2d.param_count against
independent oracles: real (non-meta) torch layers on CPU, and published figures."""

import pytest
import torch
import torch.nn.functional as F

import engine


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        # AlexNet conv1 on the 227 input actually used: (227 - 11) / 4 + 1 = 55.
        ({"in_size": 227, "kernel": 11, "stride": 4}, 55),
        # ResNet stem: 224 -> 112.
        ({"in_size": 224, "kernel": 7, "stride": 2, "padding": 3}, 112),
        # The seed's 7x7 input, 3x3 kernel, pad 1, stride 2: (7 - 3 + 2) / 2 + 1 = 4, not 3.
        ({"in_size": 7, "kernel": 3, "stride": 2, "padding": 1}, 4),
        # Dilated 3x3 with d = 2 spans 5 pixels: 32 -> 28 without padding.
        ({"in_size": 32, "kernel": 3, "dilation": 2}, 28),
    ],
)
def test_conv_output_size_published_cases(params, expected):
    assert engine.solve("conv2d.output_size", params).answer == {"output_size": expected}


@pytest.mark.parametrize("seed", range(40))
def test_conv_output_size_matches_a_real_convolution(seed):
    p = engine.sample_params("conv2d.output_size", seed)
    x = torch.zeros(1, 1, p["in_size"], p["in_size"])
    w = torch.zeros(1, 1, p["kernel"], p["kernel"])
    out = F.conv2d(x, w, stride=p["stride"], padding=p["padding"], dilation=p["dilation"])
    assert engine.solve("conv2d.output_size", p).answer["output_size"] == out.shape[-1]


def test_transposed_conv_doubles_with_stride_two():
    # The usual decoder block: k = 4, s = 2, p = 1 doubles the size exactly.
    answer = engine.solve(
        "conv_transpose2d.output_size", {"in_size": 16, "kernel": 4, "stride": 2, "padding": 1}
    ).answer
    assert answer == {"output_size": 32}


def test_transposed_conv_output_padding_must_be_below_stride():
    with pytest.raises(ValueError, match="parameter 'output_padding'"):
        engine.solve("conv_transpose2d.output_size", {"in_size": 4, "kernel": 3, "output_padding": 1})


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"in_channels": 3, "out_channels": 64, "kernel": 3}, 64 * 3 * 9 + 64),
        ({"in_channels": 64, "out_channels": 128, "kernel": 1, "bias": False}, 8192),
        # Depth-wise 3x3 on 32 channels: 32 filters of 1x3x3 plus 32 biases.
        ({"in_channels": 32, "out_channels": 32, "kernel": 3, "groups": 32}, 32 * 9 + 32),
    ],
)
def test_param_count(params, expected):
    assert engine.solve("conv2d.param_count", params).answer["params"] == expected


def test_param_count_groups_must_divide_channels():
    with pytest.raises(ValueError, match="parameter 'groups'"):
        engine.solve("conv2d.param_count", {"in_channels": 3, "out_channels": 8, "kernel": 3, "groups": 2})


def test_kernel_larger_than_padded_input_is_refused():
    with pytest.raises(ValueError, match="parameter 'kernel'"):
        engine.solve("conv2d.output_size", {"in_size": 4, "kernel": 7})


def test_misconceptions_name_the_classic_mistakes():
    def mistakes(in_size):
        s = engine.solve("conv2d.output_size",
                         {"in_size": in_size, "kernel": 3, "stride": 2, "padding": 1})
        return s.answer["output_size"], {m.key: m.answer["output_size"] for m in s.misconceptions}

    right, wrong = mistakes(8)
    assert (right, wrong["ceil_not_floor"]) == (4, 5)  # floor(7 / 2) + 1 vs ceil(7 / 2) + 1
    right, wrong = mistakes(9)
    assert (right, wrong["padding_once"]) == (5, 4)  # floor(8 / 2) + 1 vs floor(7 / 2) + 1


def test_misconceptions_that_give_the_right_number_are_not_listed():
    # (7 + 2 - 3) / 2 is whole, so ceil and floor agree: that mistake cannot be detected here.
    s = engine.solve("conv2d.output_size", {"in_size": 7, "kernel": 3, "stride": 2, "padding": 1})
    assert "ceil_not_floor" not in {m.key for m in s.misconceptions}
