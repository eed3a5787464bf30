"""The REST API (/api/): the same services as the pages, as JSON.

Views stay thin: serializers validate, ``services`` / ``quiz`` / ``flashcards`` change state,
``selectors`` read. Every URL that names an attempt goes through ``Attempt.objects.for_user``,
so another user's attempt is a 404. Described by OpenAPI at /api/schema/.
"""

from __future__ import annotations

import time

from django.core import signing
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response as ApiResponse
from rest_framework.views import APIView

from studyapp import flashcards, quiz, selectors, services
from studyapp.forms import QuestionFilterForm
from studyapp.grading import MAX_TEXT
from studyapp.models import Area, Attempt, Question, QuizItem, QuizMix, Response
from studyapp.quiz import MAX_QUESTIONS, MAX_TIME_LIMIT

# -- questions -----------------------------------------------------------------------------------


class QuestionListSerializer(serializers.ModelSerializer):
    area = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    tags = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    title = serializers.SerializerMethodField()
    version = serializers.IntegerField(source="current.number", read_only=True)

    class Meta:
        model = Question
        fields = ["slug", "code", "area", "importance", "difficulty", "tags", "title", "version"]

    def get_title(self, q) -> dict[str, str]:
        return {"zh-hans": q.current.title_zh, "en": q.current.title_en}


class QuestionList(generics.ListAPIView):
    """Published questions; the same filters and search as the question list page."""

    serializer_class = QuestionListSerializer
    permission_classes = [AllowAny]

    @extend_schema(parameters=[
        OpenApiParameter("q", str, description="search in Chinese or English"),
        OpenApiParameter("area", str), OpenApiParameter("tag", str),
        OpenApiParameter("importance", int), OpenApiParameter("difficulty", int),
        OpenApiParameter("kind", str, enum=["numeric", "conceptual"]),
    ])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        form = QuestionFilterForm(self.request.query_params)
        if not form.is_valid():
            raise ValidationError(form.errors)
        return selectors.question_list(filters=form.filters()).prefetch_related("tags")


class QuestionDetail(APIView):
    """One question: both languages, its items with the engine's answer for variant ``seed``
    (0 = the worked example), and the source claims with their verdicts."""

    permission_classes = [AllowAny]

    @extend_schema(parameters=[OpenApiParameter("variant", int, description="seed, 0 = worked example")],
                   responses={200: dict})
    def get(self, request, slug: str):
        try:
            seed = int(request.query_params.get("variant", 0))
            if not 0 <= seed < 2**31:
                raise ValueError
        except ValueError:
            raise ValidationError({"variant": "a whole number from 0 (the worked example)"}) from None
        try:
            question = selectors.question_card(slug=slug)
        except Question.DoesNotExist:
            raise Http404 from None
        data = selectors.question_export(question, question.current)
        data["version"] = question.current.number
        for item, row in zip(question.current.items.all(), data["items"], strict=True):
            if item.type == "numeric":
                worked = services.item_worked(item=item, seed=seed)
                row.update(seed=seed, variant_params=worked.variant.params, answer=worked.asked,
                           verification=worked.solution["verification"], steps=worked.solution["steps"])
        return ApiResponse(data)


# -- the engine ------------------------------------------------------------------------------------


class EngineKinds(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: dict})
    def get(self, request):
        return ApiResponse(services.engine_kinds())


class EngineSolve(APIView):
    """Solve one kind: the answer, every step, the independent check and the misconceptions."""

    permission_classes = [AllowAny]
    throttle_scope = "engine"

    @extend_schema(request=inline_serializer("SolveRequest", {"params": serializers.DictField()}),
                   responses={200: dict, 400: dict})
    def post(self, request, kind: str):
        params = request.data.get("params") if isinstance(request.data, dict) else None
        if not isinstance(params, dict):
            raise ValidationError({"params": "an object of parameters"})
        try:
            return ApiResponse(services.engine_calculate(kind=kind, params=params))
        except ValueError as exc:
            raise ValidationError({"detail": str(exc)}) from None


# -- quiz attempts -------------------------------------------------------------------------------


class StartSerializer(serializers.Serializer):
    quiz = serializers.SlugField(required=False, help_text="a ready-made quiz; or give the fields below")
    areas = serializers.ListField(child=serializers.SlugField(), required=False, default=list)
    count = serializers.IntegerField(min_value=1, max_value=MAX_QUESTIONS, default=10)
    mix = serializers.ChoiceField(choices=QuizMix.choices, default=QuizMix.MIXED)
    minutes = serializers.IntegerField(min_value=1, max_value=MAX_TIME_LIMIT // 60, default=15)


class AnswerSerializer(serializers.Serializer):
    position = serializers.IntegerField(min_value=0, max_value=MAX_QUESTIONS - 1)
    text = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=MAX_TEXT)
    seq = serializers.IntegerField(min_value=0, max_value=2**53, default=0)


class SubmitSerializer(serializers.Serializer):
    answers = serializers.DictField(child=serializers.CharField(allow_blank=True, max_length=MAX_TEXT),
                                    required=False, default=dict,
                                    help_text="position -> text, saved before grading")
    confirm = serializers.BooleanField(default=False, help_text="submit even with unreadable answers")


def attempt_payload(attempt: Attempt) -> dict:
    """What the taker may see: questions and their numbers while open; grades after."""
    rows = []
    for r in attempt.responses.select_related("item__version__question"):
        row = {"position": r.position, "question": r.item.version.question.slug,
               "version": r.item.version.number, "type": r.item.type,
               "prompt": {"zh-hans": r.item.prompt_zh or r.item.version.prompt_zh,
                          "en": r.item.prompt_en or r.item.version.prompt_en},
               "answer_key": r.item.answer_key or None, "params": r.params if r.seed else None,
               "options": [o["text"] for o in r.item.options] or None, "text": r.text}
        if not attempt.is_open:
            row.update(status=r.status, score=r.score, expected=r.expected,
                       misconception=(r.feedback or {}).get("misconception"),
                       message=(r.feedback or {}).get("message") or None)
        rows.append(row)
    return {"id": str(attempt.pk), "title": attempt.title, "status": attempt.status,
            "started_at": attempt.started_at, "deadline": attempt.deadline,
            "remaining_seconds": quiz.remaining_seconds(attempt), "finished_at": attempt.finished_at,
            "score": attempt.score, "max_score": attempt.max_score, "questions": rows}


def _own_attempt(request, attempt_id) -> Attempt:
    try:
        attempt = Attempt.objects.for_user(request.user).get(pk=attempt_id)
    except (Attempt.DoesNotExist, ValueError, signing.BadSignature):
        raise Http404 from None
    if attempt.is_open and quiz.attempt_close_if_overdue(attempt_id=attempt.pk):
        attempt.refresh_from_db()
    return attempt


class AttemptList(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="attempts_list", responses={200: dict})
    def get(self, request):
        return ApiResponse([{"id": str(a.pk), "title": a.title, "status": a.status,
                             "started_at": a.started_at, "score": a.score, "max_score": a.max_score}
                            for a in selectors.attempt_history(user=request.user)])

    @extend_schema(request=StartSerializer, responses={201: dict, 400: dict})
    def post(self, request):
        s = StartSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        data = s.validated_data
        try:
            if data.get("quiz"):
                from studyapp.models import Quiz

                preset = Quiz.objects.filter(slug=data["quiz"], is_active=True).first()
                if preset is None:
                    raise ValidationError({"quiz": "no such quiz is offered"})
                attempt = quiz.attempt_start(user=request.user, quiz=preset)
            else:
                areas = list(Area.objects.filter(slug__in=data["areas"]))
                if len(areas) != len(set(data["areas"])):
                    raise ValidationError({"areas": "unknown area"})
                attempt = quiz.attempt_start(user=request.user, areas=areas, count=data["count"],
                                             mix=data["mix"], time_limit=data["minutes"] * 60)
        except ValueError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        return ApiResponse(attempt_payload(attempt), status=status.HTTP_201_CREATED)


class AttemptDetail(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: dict, 404: dict})
    def get(self, request, attempt_id):
        return ApiResponse(attempt_payload(_own_attempt(request, attempt_id)))


class AttemptAnswer(APIView):
    """Autosave one answer; 409 once the attempt is closed or its time and grace are over."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=AnswerSerializer, responses={200: dict, 400: dict, 404: dict, 409: dict})
    def post(self, request, attempt_id):
        attempt = _own_attempt(request, attempt_id)
        s = AnswerSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        try:
            result = quiz.response_save(attempt_id=attempt.pk, user=request.user, **s.validated_data)
        except Response.DoesNotExist:
            raise ValidationError({"position": "this attempt has no such question"}) from None
        except quiz.AttemptClosed as exc:
            return ApiResponse({"saved": False, "detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return ApiResponse({"saved": result.saved, "remaining_seconds": result.remaining,
                            "problem": result.problem or None})


class AttemptSubmit(APIView):
    """Grade and close (idempotent). Unreadable answers hold the submit unless ``confirm``."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=SubmitSerializer, responses={200: dict, 400: dict, 404: dict})
    def post(self, request, attempt_id):
        attempt = _own_attempt(request, attempt_id)
        s = SubmitSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        try:
            answers = {int(k): v for k, v in s.validated_data["answers"].items()}
        except ValueError:
            raise ValidationError({"answers": "keys are question positions (0, 1, ...)"}) from None
        outcome = quiz.attempt_submit(attempt_id=attempt.pk, user=request.user, answers=answers,
                                      confirm=s.validated_data["confirm"])
        if outcome.problems:
            return ApiResponse({"submitted": False, "problems": outcome.problems},
                               status=status.HTTP_400_BAD_REQUEST)
        outcome.attempt.refresh_from_db()
        return ApiResponse({"submitted": True, "late": outcome.late, **attempt_payload(outcome.attempt)})


# -- flashcards ----------------------------------------------------------------------------------

CARD_SALT = "studyapp.api.flashcard"


class RateSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=500)
    rating = serializers.ChoiceField(choices=[1, 2, 3, 4])
    text = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False,
                                 max_length=MAX_TEXT, default="")


class StudyNext(APIView):
    """The next card: due first, then new ones within the daily limit; numeric cards with new
    numbers. ``token`` identifies the card to rate."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: dict})
    def get(self, request):
        queue = flashcards.queue_next(user=request.user)
        if queue.question is None:
            return ApiResponse({"card": None, "next_due": queue.next_due, "new_left": queue.new_left})
        q = queue.question
        item = flashcards.numeric_item(q, request.user)
        card = {"question": q.slug, "new": queue.is_new,
                "title": {"zh-hans": q.current.title_zh, "en": q.current.title_en},
                "prompt": {"zh-hans": q.current.prompt_zh, "en": q.current.prompt_en}}
        seed = None
        if item is not None:
            seed = flashcards.fresh_seed(user=request.user, item=item)
            variant = services.variant_get_or_create(item=item, seed=seed)
            card.update(answer_key=item.answer_key, params=variant.params,
                        item_prompt={"zh-hans": item.prompt_zh, "en": item.prompt_en})
        card["token"] = signing.dumps({"u": request.user.pk, "q": q.pk, "i": item.pk if item else None,
                                       "s": seed, "t": time.time()}, salt=CARD_SALT)
        return ApiResponse({"card": card, "due": queue.due_count, "new_left": queue.new_left})


class StudyRate(APIView):
    """Rate the card of ``token`` (1 Again … 4 Easy). For a numeric card, ``text`` is graded first
    and the response says whether it was right and which rating that suggests."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=RateSerializer, responses={200: dict, 400: dict})
    def post(self, request):
        s = RateSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        try:
            data = signing.loads(s.validated_data["token"], salt=CARD_SALT, max_age=24 * 3600)
            if data["u"] != request.user.pk:
                raise signing.BadSignature
            question = Question.objects.get(pk=data["q"])
        except (signing.BadSignature, KeyError, Question.DoesNotExist):
            raise ValidationError({"token": "unknown or expired card"}) from None
        item = QuizItem.objects.filter(pk=data.get("i")).first() if data.get("i") else None
        seconds = time.time() - data["t"]
        correct = proposed = None
        text = s.validated_data["text"]
        if item is not None and text.strip():
            grade = quiz.grade_item(item, text, seed=data.get("s") or 0)
            if grade.status == "unreadable":
                raise ValidationError({"text": grade.message})
            correct = grade.status == "correct"
            proposed = flashcards.propose_rating(correct, seconds)
        card = flashcards.review_rate(user=request.user, question=question,
                                      rating=s.validated_data["rating"], duration_ms=round(seconds * 1000),
                                      item=item, seed=data.get("s"), answer_text=text, correct=correct,
                                      proposed=proposed)
        return ApiResponse({"question": question.slug, "correct": correct, "proposed_rating": proposed,
                            "due": card.due})
