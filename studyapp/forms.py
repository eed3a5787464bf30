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


JSON_TYPES = ("array", "object")  # typed as JSON in a text area


class KindForm(forms.Form):
    """A what-if calculator's form, built from an engine kind's parameter schema.

    Arrays are typed as JSON (``[[1, 2], [3, 4]]``). The engine validates the
    values; its message names the parameter, and the error is shown on that field.
    """

    def __init__(self, schema: dict, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.schema = schema
        for p in schema["params"]:
            self.fields[p["name"]] = self._field(p)

    @staticmethod
    def _field(p: dict) -> forms.Field:
        required = p["required"] and p["type"] != "boolean"
        help_text = p.get("help", "")
        if p["type"] == "choice":
            return forms.ChoiceField(choices=[(c, c) for c in p["choices"]], required=required,
                                     help_text=help_text)
        if p["type"] == "boolean":
            return forms.BooleanField(required=False, help_text=help_text)
        widget = forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}) if p["type"] in (
            JSON_TYPES) else forms.TextInput(attrs={"spellcheck": "false"})
        return forms.CharField(required=required, help_text=help_text, widget=widget,
                               max_length=20_000)

    def raw_params(self) -> dict:
        """The submitted values as JSON types (arrays parsed); call after is_valid()."""
        import json

        params = {}
        for p in self.schema["params"]:
            value = self.cleaned_data.get(p["name"])
            if p["type"] == "boolean":
                # An unticked box sends nothing: leave the engine's default unless it differs.
                if value != bool(p.get("default")):
                    params[p["name"]] = value
                continue
            if value in (None, ""):
                continue
            if p["type"] != "choice":
                try:
                    value = json.loads(value)
                except ValueError:
                    if p["type"] not in JSON_TYPES:
                        value = value.strip()  # e.g. "inf"; the engine names what is wrong
                    else:
                        self.add_error(p["name"], _("Not valid JSON: write numbers or "
                                                    "[lists, of, numbers]."))
                        continue
            params[p["name"]] = value
        return params

    def initial_from(self, params: dict) -> None:
        import json

        for p in self.schema["params"]:
            if p["name"] in params and params[p["name"]] is not None:
                value = params[p["name"]]
                self.initial[p["name"]] = value if p["type"] in ("choice", "boolean") else (
                    json.dumps(value, ensure_ascii=False))
