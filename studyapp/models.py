"""The question bank's data model, and the quizzes taken on it."""

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class AreaManager(models.Manager["Area"]):
    def get_by_natural_key(self, slug: str) -> "Area":
        return self.get(slug=slug)


class Area(models.Model):
    """One of the bank's subject areas (fundamentals, CNN, optimisers...)."""

    slug = models.SlugField(_("slug"), max_length=20, unique=True)
    code = models.CharField(
        _("code"), max_length=10, unique=True, help_text=_("Question-ID prefix, e.g. CNN.")
    )
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    objects = AreaManager()

    class Meta:
        ordering = ["position", "slug"]
        verbose_name = _("area")
        verbose_name_plural = _("areas")

    def __str__(self) -> str:
        return f"{self.code} {self.name_en}"

    def get_absolute_url(self) -> str:
        return reverse("studyapp:home") + f"#area-{self.slug}"

    def natural_key(self) -> tuple[str]:
        return (self.slug,)

    @property
    def name(self) -> str:
        """The name in the active language."""
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh

    @property
    def description(self) -> str:
        return self.description_en if (get_language() or "").startswith("en") else self.description_zh


class Importance(models.IntegerChoices):
    """The source notes' star marks (only one seed has them)."""

    UNMARKED = 0, _("unmarked")
    LOW = 1, "★"
    MEDIUM = 2, "★★"
    HIGH = 3, "★★★"


class Difficulty(models.IntegerChoices):
    EASY = 1, _("easy")
    MEDIUM = 2, _("medium")
    HARD = 3, _("hard")


class QuestionStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    PUBLISHED = "published", _("published")


class TagManager(models.Manager["Tag"]):
    def get_by_natural_key(self, slug: str) -> "Tag":
        return self.get(slug=slug)


class Tag(models.Model):
    slug = models.SlugField(_("slug"), max_length=40, unique=True)

    objects = TagManager()

    class Meta:
        ordering = ["slug"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.slug

    def natural_key(self) -> tuple[str]:
        return (self.slug,)


class QuestionQuerySet(models.QuerySet["Question"]):
    def published(self) -> "QuestionQuerySet":
        return self.filter(status=QuestionStatus.PUBLISHED, current__isnull=False)


class QuestionManager(models.Manager.from_queryset(QuestionQuerySet)):  # type: ignore[misc]
    def get_by_natural_key(self, slug: str) -> "Question":
        return self.get(slug=slug)


class Question(models.Model):
    """A question of the bank. Its content lives in immutable QuestionVersions."""

    slug = models.SlugField(
        _("slug"), max_length=20, unique=True, help_text=_("The catalog ID in lower case, e.g. prop-03.")
    )
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="questions",
                             verbose_name=_("area"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    importance = models.PositiveSmallIntegerField(
        _("importance"), choices=Importance.choices, default=Importance.UNMARKED
    )
    difficulty = models.PositiveSmallIntegerField(
        _("difficulty"), choices=Difficulty.choices, default=Difficulty.MEDIUM
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="questions", verbose_name=_("tags"))
    status = models.CharField(
        _("status"), max_length=10, choices=QuestionStatus.choices, default=QuestionStatus.DRAFT
    )
    current = models.ForeignKey(
        "QuestionVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("published version"),
    )
    draft = models.JSONField(
        _("unpublished draft"), null=True, blank=True, editable=False,
        help_text=_("Edits saved in the admin but not yet published (bank-file format)."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = QuestionManager()

    class Meta:
        ordering = ["area__position", "position", "slug"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")

    def __str__(self) -> str:
        return self.slug.upper()

    def natural_key(self) -> tuple[str]:
        return (self.slug,)

    @property
    def code(self) -> str:
        return self.slug.upper()


class QuestionVersion(models.Model):
    """One immutable snapshot of a question's content.

    Quiz attempts, variants and reviews point at the version they used, so
    editing a question never changes a past result.
    """

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="versions",
                                 verbose_name=_("question"))
    number = models.PositiveIntegerField(_("version"))
    title_zh = models.CharField(_("title (Chinese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    prompt_zh = models.TextField(_("prompt (Chinese)"), help_text=_("Markdown with $...$ math."))
    prompt_en = models.TextField(_("prompt (English)"), help_text=_("Markdown with $...$ math."))
    answer_zh = models.TextField(_("answer (Chinese)"), help_text=_("Markdown with $...$ math."))
    answer_en = models.TextField(_("answer (English)"), help_text=_("Markdown with $...$ math."))
    sources = models.JSONField(
        _("sources"), default=list, blank=True,
        help_text=_('Where the question comes from: [{"seed": file name, "section": "§..."}].'),
    )
    content_hash = models.CharField(_("content hash"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+", verbose_name=_("published by"))

    class Meta:
        ordering = ["question", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["question", "number"], name="unique_version_number"),
        ]
        verbose_name = _("question version")
        verbose_name_plural = _("question versions")

    def __str__(self) -> str:
        return f"{self.question_id and self.question.slug.upper()} v{self.number}"

    def text(self, field: str, lang: str | None = None) -> str:
        """``field`` (title, prompt, answer) in ``lang`` or the active language."""
        lang = lang or get_language() or "zh-hans"
        return getattr(self, f"{field}_{'en' if lang.startswith('en') else 'zh'}")

    @property
    def title(self) -> str:
        return self.text("title")


class ItemType(models.TextChoices):
    NUMERIC = "numeric", _("numeric")
    SINGLE_CHOICE = "single_choice", _("single choice")
    MULTIPLE_CHOICE = "multiple_choice", _("multiple choice")
    SELF_GRADED = "self_graded", _("self-graded")


class QuizItem(models.Model):
    """A gradable item of a question version.

    Numeric items are bound to an engine kind: ``params`` is the canonical
    example; with ``vary`` on, variants come from the kind's seeded generator,
    with the parameters listed in ``fixed`` kept as in ``params``. ``answer_key``
    names the asked answer, optionally with an index path (``grad_w2[0][1]``).
    """

    version = models.ForeignKey(QuestionVersion, on_delete=models.CASCADE, related_name="items",
                                verbose_name=_("version"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    type = models.CharField(_("type"), max_length=20, choices=ItemType.choices)
    prompt_zh = models.TextField(_("prompt (Chinese)"), blank=True)
    prompt_en = models.TextField(_("prompt (English)"), blank=True)
    kind = models.CharField(_("engine kind"), max_length=60, blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    vary = models.BooleanField(_("new numbers per variant"), default=True)
    fixed = models.JSONField(_("parameters kept fixed"), default=list, blank=True)
    answer_key = models.CharField(_("answer key"), max_length=60, blank=True)
    rtol = models.FloatField(_("relative tolerance"), null=True, blank=True)
    atol = models.FloatField(_("absolute tolerance"), null=True, blank=True)
    options = models.JSONField(
        _("options"), default=list, blank=True,
        help_text=_("Choice items: [{text_zh, text_en, correct, explanation_zh, explanation_en}]."),
    )
    explanation_zh = models.TextField(_("explanation (Chinese)"), blank=True)
    explanation_en = models.TextField(_("explanation (English)"), blank=True)

    class Meta:
        ordering = ["version", "position"]
        verbose_name = _("quiz item")
        verbose_name_plural = _("quiz items")

    def __str__(self) -> str:
        return f"{self.version} #{self.position + 1} ({self.type})"


class ClaimStatus(models.TextChoices):
    VERIFIED = "verified", _("verified")
    ERRATUM = "erratum", _("erratum")
    UNDERSPECIFIED = "underspecified", _("underspecified")


class SourceClaim(models.Model):
    """A numeric statement of a source note, checked by the engine.

    ``stated`` quotes the note; ``stated_value`` is the number (or list) it
    gives; the engine computes ``answer_key`` of ``kind`` with ``params``.
    The claim agrees when the stated value equals the computed one to the
    precision the note wrote it with.
    """

    version = models.ForeignKey(QuestionVersion, on_delete=models.CASCADE, related_name="claims",
                                verbose_name=_("version"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    seed = models.CharField(_("source note"), max_length=60)
    section = models.CharField(_("section"), max_length=120, blank=True)
    stated = models.TextField(_("as stated"))
    stated_value = models.JSONField(_("stated value"), null=True, blank=True)
    kind = models.CharField(_("engine kind"), max_length=60, blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    answer_key = models.CharField(_("answer key"), max_length=60, blank=True)
    computed_value = models.JSONField(_("computed value"), null=True, blank=True, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=ClaimStatus.choices,
                              default=ClaimStatus.UNDERSPECIFIED)
    explanation_zh = models.TextField(_("explanation (Chinese)"), blank=True)
    explanation_en = models.TextField(_("explanation (English)"), blank=True)

    class Meta:
        ordering = ["version", "position"]
        verbose_name = _("source claim")
        verbose_name_plural = _("source claims")

    def __str__(self) -> str:
        return f"{self.seed} {self.section}: {self.stated[:40]}"


class Variant(models.Model):
    """A stored variant of a numeric item: same seed, same numbers, forever.

    Grading reads ``answer`` from here and never recomputes.
    """

    item = models.ForeignKey(QuizItem, on_delete=models.CASCADE, related_name="variants",
                             verbose_name=_("item"))
    seed = models.PositiveIntegerField(_("seed"))
    params = models.JSONField(_("parameters"))
    answer = models.JSONField(_("answer"))
    engine_versions = models.JSONField(_("engine versions"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "seed"], name="unique_variant_seed")]
        verbose_name = _("variant")
        verbose_name_plural = _("variants")

    def __str__(self) -> str:
        return f"{self.item} seed {self.seed}"


# -- timed quizzes -------------------------------------------------------------------------

class QuizMix(models.TextChoices):
    NUMERIC = "numeric", _("numeric only")
    MIXED = "mixed", _("mixed")


class Quiz(models.Model):
    """A staff-defined quiz: which questions to draw and how long to allow.

    Starting it creates an Attempt with its own drawn questions and numbers.
    """

    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    title_zh = models.CharField(_("title (Chinese)"), max_length=120)
    title_en = models.CharField(_("title (English)"), max_length=120)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    areas = models.ManyToManyField(Area, blank=True, related_name="quizzes", verbose_name=_("areas"),
                                   help_text=_("Leave empty to draw from every area."))
    question_count = models.PositiveSmallIntegerField(_("questions"), default=10)
    mix = models.CharField(_("items"), max_length=10, choices=QuizMix.choices, default=QuizMix.MIXED)
    time_limit = models.PositiveIntegerField(_("time limit (seconds)"), default=15 * 60)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("offered"), default=True)

    class Meta:
        ordering = ["position", "slug"]
        verbose_name = _("quiz")
        verbose_name_plural = _("quizzes")

    def __str__(self) -> str:
        return self.title_en

    @property
    def title(self) -> str:
        return self.title_en if (get_language() or "").startswith("en") else self.title_zh

    @property
    def description(self) -> str:
        return self.description_en if (get_language() or "").startswith("en") else self.description_zh


class AttemptStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("in progress")
    SUBMITTED = "submitted", _("submitted")
    EXPIRED = "expired", _("closed at the deadline")


class AttemptQuerySet(models.QuerySet["Attempt"]):
    def for_user(self, user) -> "AttemptQuerySet":
        """Only ``user``'s attempts: every view that names an attempt goes through this."""
        return self.filter(user=user) if user.is_authenticated else self.none()

    def open(self) -> "AttemptQuerySet":
        return self.filter(status=AttemptStatus.IN_PROGRESS)

    def overdue(self, now, grace) -> "AttemptQuerySet":
        """Open attempts whose deadline and grace have both passed."""
        return self.open().filter(deadline__lt=now - grace)


class Attempt(models.Model):
    """One sitting of a quiz by one user, with its questions and numbers drawn and stored.

    The server's clock decides: ``deadline = started_at + time_limit``; answers
    after the deadline plus a short grace are refused, and an attempt nobody
    submits is closed with ``finished_at = deadline``.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="attempts", verbose_name=_("user"))
    quiz = models.ForeignKey(Quiz, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="attempts", verbose_name=_("quiz"))
    title = models.CharField(_("title"), max_length=200)
    spec = models.JSONField(_("what was asked for"), default=dict,
                            help_text=_("Areas, number of questions, mix and time limit (for a retake)."))
    time_limit = models.PositiveIntegerField(_("time limit (seconds)"))
    started_at = models.DateTimeField(_("started"))
    deadline = models.DateTimeField(_("deadline"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=AttemptStatus.choices,
                              default=AttemptStatus.IN_PROGRESS)
    score = models.FloatField(_("score"), null=True, blank=True)
    max_score = models.PositiveSmallIntegerField(_("out of"), default=0)
    regraded_at = models.DateTimeField(_("regraded"), null=True, blank=True)

    objects = AttemptQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["status", "deadline"]),
                   models.Index(fields=["user", "-started_at"])]
        verbose_name = _("quiz attempt")
        verbose_name_plural = _("quiz attempts")

    def __str__(self) -> str:
        return f"{self.title} ({self.user}, {self.started_at:%Y-%m-%d %H:%M})"

    def get_absolute_url(self) -> str:
        return reverse("studyapp:attempt", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status == AttemptStatus.IN_PROGRESS

    @property
    def duration(self):
        """Time taken (finished attempts only)."""
        return self.finished_at - self.started_at if self.finished_at else None


class Response(models.Model):
    """One drawn question of an attempt: the item (pinned to its version), the variant's
    numbers and answer as drawn, what the user typed, and its grade."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="responses",
                                verbose_name=_("attempt"))
    position = models.PositiveSmallIntegerField(_("position"))
    item = models.ForeignKey(QuizItem, on_delete=models.PROTECT, related_name="responses",
                             verbose_name=_("item"))
    variant = models.ForeignKey(Variant, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="responses", verbose_name=_("variant"))
    seed = models.PositiveIntegerField(_("seed"), null=True, blank=True)
    params = models.JSONField(_("parameters"), null=True, blank=True)
    expected = models.JSONField(_("expected answer"), null=True, blank=True)
    text = models.TextField(_("answer as typed"), blank=True)
    client_seq = models.PositiveBigIntegerField(
        _("client sequence"), default=0,
        help_text=_("The browser numbers its saves; an older save arriving late is ignored."))
    saved_at = models.DateTimeField(_("saved"), null=True, blank=True)
    self_grade = models.BooleanField(_("self-graded correct"), null=True, blank=True)
    status = models.CharField(_("grade"), max_length=12, blank=True)
    score = models.FloatField(_("score"), null=True, blank=True)
    feedback = models.JSONField(_("feedback"), default=dict, blank=True)

    class Meta:
        ordering = ["attempt", "position"]
        constraints = [models.UniqueConstraint(fields=["attempt", "position"],
                                               name="unique_response_position")]
        verbose_name = _("response")
        verbose_name_plural = _("responses")

    def __str__(self) -> str:
        return f"{self.attempt_id} #{self.position + 1}"


# -- flashcards --------------------------------------------------------------------------------

class StudyProfile(models.Model):
    """A user's flashcard settings: decks, daily new cards, retention, time zone, interview date."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="study_profile", verbose_name=_("user"))
    areas = models.ManyToManyField(Area, blank=True, verbose_name=_("areas"),
                                   help_text=_("Leave empty to study every area."))
    tags = models.ManyToManyField(Tag, blank=True, verbose_name=_("tags"))
    min_importance = models.PositiveSmallIntegerField(_("minimum importance"), default=0,
                                                      choices=Importance.choices)
    new_per_day = models.PositiveSmallIntegerField(_("new cards per day"), default=20)
    desired_retention = models.FloatField(_("desired retention"), default=0.9)
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    interview_date = models.DateField(_("interview date"), null=True, blank=True)
    fsrs_parameters = models.JSONField(_("FSRS parameters"), null=True, blank=True,
                                       help_text=_("Optimised on this user's reviews; empty: FSRS-6 defaults."))
    optimised_at = models.DateTimeField(_("optimised"), null=True, blank=True)

    class Meta:
        verbose_name = _("study profile")
        verbose_name_plural = _("study profiles")

    def __str__(self) -> str:
        return f"{self.user} study profile"


class StudyCard(models.Model):
    """One question in one user's spaced-repetition schedule; ``fsrs`` is py-fsrs's card state."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="study_cards", verbose_name=_("user"))
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="study_cards",
                                 verbose_name=_("question"))
    fsrs = models.JSONField(_("FSRS state"))
    due = models.DateTimeField(_("due"))
    created_at = models.DateTimeField(_("first studied"), auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "question"], name="unique_study_card")]
        indexes = [models.Index(fields=["user", "due"])]
        verbose_name = _("study card")
        verbose_name_plural = _("study cards")

    def __str__(self) -> str:
        return f"{self.user} {self.question}"


class Review(models.Model):
    """One rating of a card: what was asked (variant), answered, proposed and chosen, and the card
    state before, so the last rating can be undone."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="reviews", verbose_name=_("user"))
    card = models.ForeignKey(StudyCard, on_delete=models.CASCADE, related_name="reviews",
                             verbose_name=_("card"))
    rating = models.PositiveSmallIntegerField(_("rating"))
    proposed = models.PositiveSmallIntegerField(_("proposed rating"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("reviewed"))
    duration_ms = models.PositiveIntegerField(_("answer time (ms)"), null=True, blank=True)
    item = models.ForeignKey(QuizItem, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+", verbose_name=_("item"))
    seed = models.PositiveIntegerField(_("seed"), null=True, blank=True)
    answer_text = models.TextField(_("answer as typed"), blank=True)
    correct = models.BooleanField(_("correct"), null=True, blank=True)
    before = models.JSONField(_("card state before"), null=True, blank=True)
    before_due = models.DateTimeField(_("due before"), null=True, blank=True)

    class Meta:
        ordering = ["-reviewed_at", "-pk"]
        indexes = [models.Index(fields=["user", "-reviewed_at"])]
        verbose_name = _("review")
        verbose_name_plural = _("reviews")

    def __str__(self) -> str:
        return f"{self.card} rated {self.rating}"
