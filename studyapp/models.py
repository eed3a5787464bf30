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
