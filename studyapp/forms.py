"""Forms: every piece of user input is validated here before a view uses it."""

from django import forms
from django.utils.translation import gettext_lazy as _

from studyapp.models import Area, Difficulty, Importance, Tag

NUMERIC_CHOICES = [("", _("all")), ("numeric", _("numeric")), ("conceptual", _("conceptual"))]


class QuestionFilterForm(forms.Form):
    """The filters and search of the question list (all optional)."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100, strip=True)
    area = forms.ModelChoiceField(
        label=_("Area"), queryset=Area.objects.all(), required=False, to_field_name="slug",
        empty_label=_("all areas"),
    )
    importance = forms.TypedChoiceField(
        label=_("Importance"), required=False, coerce=int, empty_value=None,
        choices=[("", _("any")), *[(c.value, c.label) for c in Importance if c.value]],
    )
    difficulty = forms.TypedChoiceField(
        label=_("Difficulty"), required=False, coerce=int, empty_value=None,
        choices=[("", _("any")), *Difficulty.choices],
    )
    kind = forms.ChoiceField(label=_("Type"), required=False, choices=NUMERIC_CHOICES)
    tag = forms.ModelChoiceField(
        label=_("Tag"), queryset=Tag.objects.all(), required=False, to_field_name="slug",
        empty_label=_("any tag"),
    )

    def filters(self) -> dict:
        """The valid filters (invalid ones are dropped; their errors show in the form)."""
        data = self.cleaned_data if self.is_valid() else {
            k: v for k, v in getattr(self, "cleaned_data", {}).items() if k not in self.errors
        }
        return {k: v for k, v in data.items() if v not in (None, "")}


class VariantForm(forms.Form):
    variant = forms.IntegerField(
        min_value=0, max_value=2**31 - 1, required=False,
        error_messages={"invalid": _("The variant must be a whole number (0 is the worked example).")},
    )
