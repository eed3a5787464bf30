"""The question bank's data model."""

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
