"""What-if calculators: a form per engine kind, engine messages on the right field."""

import pytest
from django.urls import reverse

import engine


def calc(client, kind, **params):
    return client.get(reverse("studyapp:engine_calculator", args=[kind]), params,
                      HTTP_ACCEPT_LANGUAGE="en")


def test_index_lists_every_kind(client):
    html = client.get(reverse("studyapp:engine_index")).content.decode()
    for kind in engine.list_kinds():
        assert reverse("studyapp:engine_calculator", args=[kind]) in html


@pytest.mark.parametrize("kind", engine.list_kinds())
def test_every_calculator_opens_with_a_worked_example(client, kind):
    response = calc(client, kind)
    assert response.status_code == 200
    assert response.context["solution"]["verification"]["passed"]


def test_recompute_with_new_numbers(client):
    response = calc(client, "conv2d.output_size", in_size=227, kernel=11, stride=4, padding=0,
                    dilation=1)
    assert response.context["solution"]["answer"] == {"output_size": 55}


def test_engine_message_lands_on_the_field(client):
    response = calc(client, "conv2d.output_size", in_size=5, kernel=9, stride=1, padding=0,
                    dilation=1)
    assert response.status_code == 400
    assert "dilated kernel spans 9 pixels" in response.context["form"].errors["kernel"][0]


def test_malformed_json_is_a_form_error_not_a_crash(client):
    response = calc(client, "softmax", logits="[1, 2", temperature=1)
    assert response.status_code == 400
    assert "Not valid JSON" in response.context["form"].errors["logits"][0]


def test_object_and_special_params(client):
    assert calc(client, "norm", x="[3, -4]", p="inf").context["solution"]["answer"] == {"value": 4.0}
    params = engine.sample_params("rnn_cell", 1)
    import json

    response = calc(client, "rnn_cell", **{k: json.dumps(v) if not isinstance(v, str) else v
                                          for k, v in params.items() if v is not None})
    assert response.status_code == 200, response.context["form"].errors


def test_unknown_kind_is_404(client):
    assert calc(client, "conv3d").status_code == 404


def test_oversized_input_is_refused(client):
    response = calc(client, "softmax", logits=str(list(range(1500))), temperature=1)
    assert response.status_code == 400
    assert "too many" in response.context["form"].errors["logits"][0]


def test_huge_request_is_refused_before_the_engine(client):
    response = calc(client, "softmax", logits=str(list(range(9000))), temperature=1)
    assert response.status_code == 400
    assert "at most 20000 characters" in response.context["form"].errors["logits"][0]


def test_torch_code_reproduces_the_answer(client):
    import json
    import shlex
    import subprocess
    import sys

    response = calc(client, "conv2d.output_size", in_size=224, kernel=7, stride=2, padding=3,
                    dilation=1)
    html = response.content.decode()
    assert "def solve(self, p" in html and "F.conv2d" in html
    command = response.context["solution"]["params"]
    line = "python -m engine solve conv2d.output_size --params " + shlex.quote(
        json.dumps(command, ensure_ascii=False, separators=(", ", ": ")))
    assert line.replace("'", "&#x27;").replace('"', "&quot;") in html
    out = subprocess.run([sys.executable, *shlex.split(line)[1:]], capture_output=True, text=True,
                         timeout=120)
    assert json.loads(out.stdout)["answer"] == {"output_size": 112}
