"""``python -m engine``: the exact JSON contract, batch lines, and clean errors on bad input."""

import io
import json
import subprocess
import sys

import pytest

from engine.cli import main


def run(argv, stdin=None, monkeypatch=None):
    out = io.StringIO()
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(argv, out=out)
    return code, out.getvalue()


def test_solve_prints_one_json_object_with_the_contract_keys():
    code, out = run(["solve", "conv2d.output_size", "--params",
                     '{"in_size": 224, "kernel": 7, "stride": 2, "padding": 3}', "--device", "cpu"])
    assert code == 0
    result = json.loads(out)
    assert result["answer"] == {"output_size": 112}
    assert result["verification"]["passed"] is True
    assert isinstance(result["verification"]["max_abs_error"], float)
    assert result["verification"]["method"]
    assert result["device"] == "cpu" and result["dtype"] == "float64"
    assert {"engine", "torch", "numpy", "kind"} <= set(result["versions"])
    assert isinstance(result["steps"], list) and isinstance(result["misconceptions"], list)


def test_list_json_has_schema_and_answer_keys():
    code, out = run(["list", "--json"])
    kinds = {k["kind"]: k for k in json.loads(out)}
    assert code == 0
    assert [a["name"] for a in kinds["cross_entropy"]["answers"]] == ["loss", "probs", "grad_logits"]
    assert kinds["softmax"]["params"][1]["default"] == 1.0


def test_list_text():
    code, out = run(["list"])
    assert code == 0 and "conv2d.output_size" in out and "answers: output_size" in out


def test_batch_keeps_order_and_reports_bad_lines_in_place(monkeypatch):
    lines = "\n".join([
        '{"kind": "softmax", "params": {"logits": [1, 2]}}',
        "not json",
        '{"kind": "conv2d.output_size", "params": {"in_size": 0, "kernel": 1}}',
        '{"kind": "no.such.kind"}',
        '{"kind": "conv2d.output_size", "params": {"in_size": 5, "kernel": 3}}',
    ])
    code, out = run(["solve", "--batch", "-"], stdin=lines, monkeypatch=monkeypatch)
    results = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(results) == 5
    assert results[0]["kind"] == "softmax"
    assert "not valid JSON" in results[1]["error"]
    assert "parameter 'in_size'" in results[2]["error"]
    assert "unknown kind" in results[3]["error"]
    assert results[4]["answer"] == {"output_size": 3}


def test_batch_from_a_file(tmp_path):
    path = tmp_path / "jobs.jsonl"
    path.write_text('{"kind": "conv2d.param_count", "params": {"in_channels": 3, '
                    '"out_channels": 8, "kernel": 3}}\n', encoding="utf-8")
    code, out = run(["solve", "--batch", str(path)])
    assert code == 0 and json.loads(out)["answer"] == {"params": 224}


def test_sample_is_reproducible():
    _, first = run(["sample", "softmax", "--seed", "42"])
    _, second = run(["sample", "softmax", "--seed", "42"])
    assert json.loads(first)["params"] == json.loads(second)["params"]


def test_verify_table_and_exit_code():
    code, out = run(["verify", "--variants", "5", "--jobs", "1", "--kinds", "softmax,cross_entropy"])
    assert code == 0
    assert "2 kinds, 10 variants, 0 failed" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["solve", "conv2d.output_size", "--params", '{"in_size": 5, "kernel": 9}'], "parameter 'kernel'"),
        (["solve", "conv2d.output_size", "--params", "{not json"], "--params is not valid JSON"),
        (["solve", "nope", "--params", "{}"], "unknown kind 'nope'"),
        (["solve", "softmax", "--params", '{"logits": "x"}'], "parameter 'logits'"),
        (["sample", "softmax", "--seed", "-3"], "--seed must be a non-negative integer"),
        (["solve", "softmax", "--params", '{"logits": [1, 2]}', "--device", "tpu"], "device 'tpu' is not valid"),
        (["solve", "--batch", "/no/such/file.jsonl"], "cannot read"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(argv, message, capsys):
    assert main(argv, out=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_real_process_exit_code_and_no_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "engine", "solve", "pool2d.output_size", "--params",
         '{"in_size": 4, "kernel": 2, "padding": 2}'],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: parameter 'padding'")
    assert "Traceback" not in proc.stderr and proc.stdout == ""
