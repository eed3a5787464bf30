"""Concurrent autosaves and submits of one attempt, with real concurrency on PostgreSQL.

Each thread has its own database connection; the attempt row lock orders saves
and submits, so no saved answer is lost and none lands after the attempt closed.
SQLite serialises writers on the whole file, so these run on PostgreSQL only
(``.ci/run`` runs the suite again on PostgreSQL).
"""

import random
import threading

import pytest
from django.contrib.auth.models import User
from django.db import connection, connections

from studyapp import quiz
from studyapp.models import Attempt
from studyapp.services import bank_load

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's row locks"),
]


def run_threads(target, args_list):
    barrier = threading.Barrier(len(args_list))
    errors = []

    def wrapped(*args):
        try:
            barrier.wait()
            target(*args)
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=wrapped, args=a) for a in args_list]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return errors


@pytest.fixture
def attempt(bank_dir):
    bank_load(bank_dir=bank_dir)
    user = User.objects.create_user("ada", password="pw-ada-12345")
    return quiz.attempt_start(user=user, count=4, mix="numeric", time_limit=600, rng=random.Random(4))


def test_concurrent_saves_of_different_answers_all_land(attempt):
    user = attempt.user
    positions = list(attempt.responses.values_list("position", flat=True))

    def save(position, k):
        quiz.response_save(attempt_id=attempt.pk, user=user, position=position, text=f"{position}.{k}",
                           seq=k)

    jobs = [(p, k) for p in positions for k in range(1, 6)]
    random.Random(0).shuffle(jobs)
    assert run_threads(save, jobs) == []
    saved = dict(attempt.responses.values_list("position", "text"))
    assert saved == {p: f"{p}.5" for p in positions}, "the newest save of every answer wins"


def test_save_racing_submit_is_either_graded_or_refused(attempt):
    user = attempt.user
    outcome = {}

    def save():
        try:
            quiz.response_save(attempt_id=attempt.pk, user=user, position=0, text="0.123", seq=1)
            outcome["save"] = "saved"
        except quiz.AttemptClosed:
            outcome["save"] = "refused"

    def submit():
        quiz.attempt_submit(attempt_id=attempt.pk, user=user, confirm=True)

    def act(which):
        save() if which == "save" else submit()

    assert run_threads(act, [("save",), ("submit",), ("submit",)]) == []
    attempt = Attempt.objects.get(pk=attempt.pk)
    r0 = attempt.responses.get(position=0)
    assert attempt.status == "submitted"
    if outcome["save"] == "saved":
        assert r0.text == "0.123" and r0.status in ("incorrect", "correct", "unreadable"), \
            "a save that got in before the submit is graded"
    else:
        assert r0.text == "" and r0.status == "unanswered"
