"""The registry itself: names, lookups, duplicate protection, parameter validation."""

import pytest

import engine
from engine.params import Array, Boolean, Choice, Integer, Number
from engine.registry import Kind, get_kind, list_kinds, register


def test_list_kinds_is_sorted_and_holds_the_required_kinds():
    kinds = list_kinds()
    assert kinds == sorted(kinds)
    for required in ("conv2d.output_size", "conv2d.param_count", "conv_transpose2d.output_size",
                     "pool2d.output_size", "softmax", "cross_entropy"):
        assert required in kinds


def test_unknown_kind_names_the_kind():
    with pytest.raises(ValueError, match="unknown kind 'conv3d'"):
        get_kind("conv3d")


def test_registering_a_name_twice_fails_loudly():
    with pytest.raises(ValueError, match="already registered under the name 'softmax'"):
        @register("softmax")
        class Again(Kind):
            pass


def test_unknown_and_missing_parameters_are_named():
    with pytest.raises(ValueError, match="unknown parameter 'kernal'"):
        engine.solve("conv2d.output_size", {"in_size": 5, "kernal": 3})
    with pytest.raises(ValueError, match="parameter 'kernel' is required"):
        engine.solve("conv2d.output_size", {"in_size": 5})


def test_params_must_be_an_object():
    with pytest.raises(ValueError, match="must be a JSON object"):
        engine.solve("softmax", [1, 2, 3])


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        (Number("lr", min=0, max=10), -1, r"parameter 'lr': -1 is out of range; valid range is \[0, 10\]"),
        (Number("lr", min=0, open_min=True), 0, r"valid range is \(0, inf\]"),
        (Number("lr"), "abc", "expected a number, got 'abc'"),
        (Number("lr"), float("nan"), "must be finite"),
        (Number("lr"), True, "expected a number"),
        (Integer("k", min=1), 0, r"parameter 'k': 0 is out of range; valid range is \[1, inf\]"),
        (Integer("k"), 2.5, "expected an integer, got 2.5"),
        (Boolean("bias"), "yes", "expected true or false"),
        (Choice("mode", choices=("max", "avg")), "sum", "'sum' is not one of max, avg"),
        (Array("x", ndim=(1,)), [[1, 2]], "expected a 1-D array, got 2-D"),
        (Array("x", ndim=(2,)), [[1, 2], [3]], "ragged"),
        (Array("x", ndim=(1,), max_elements=3), [1, 2, 3, 4], "4 elements is too many; at most 3"),
        (Array("x", ndim=(1,), min=0), [1, -2], "element -2 is out of range"),
        (Array("x", ndim=(1,), integer=True), [1, 2.5], "must be an integer"),
        (Array("x", ndim=(1,)), [], "must not be empty"),
    ],
)
def test_param_validation_messages(param, value, message):
    with pytest.raises(ValueError, match=message):
        param.clean(value)


def test_params_normalise_json_input():
    assert Number("lr").clean("0.5") == 0.5
    assert Integer("k").clean(3.0) == 3
    assert Integer("k").clean("7") == 7
    assert Boolean("b").clean("true") is True
    assert Array("x", ndim=(1, 2)).clean([[1, 2], [3, 4]]) == [[1.0, 2.0], [3.0, 4.0]]
    assert Array("x", ndim=(0, 1)).clean(3) == 3.0


def test_schema_describes_every_param_and_answer():
    schema = get_kind("conv2d.output_size").schema()
    assert [p["name"] for p in schema["params"]] == ["in_size", "kernel", "stride", "padding",
                                                      "dilation"]
    assert schema["params"][0] == {"name": "in_size", "type": "integer", "required": True,
                                   "help": "input height = width, n", "min": 1, "max": 100000}
    assert schema["answers"][0]["type"] == "integer"
    assert "\\left\\lfloor" in schema["doc"]
