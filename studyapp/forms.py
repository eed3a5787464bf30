"""Forms: every piece of user input is validated here before a view uses it."""

import zoneinfo

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from studyapp.grading import MAX_TEXT
from studyapp.models import Area, Difficulty, Importance, Quiz, QuizMix, StudyProfile, Tag
from studyapp.quiz import MAX_QUESTIONS, MAX_TIME_LIMIT

LAYOUT_CHOICES = [("all", _("all questions on one page")), ("one", _("one question per page"))]

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


# -- accounts and quizzes -------------------------------------------------------------------

class SignUpForm(UserCreationForm):
    """Sign-up is one short form: a user name and a password typed twice."""

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username",)


class QuizBuilderForm(forms.Form):
    """A quiz the user puts together: areas, number of questions, item mix and time limit."""

    areas = forms.ModelMultipleChoiceField(
        label=_("Areas"), queryset=Area.objects.all(), required=False, to_field_name="slug",
        widget=forms.CheckboxSelectMultiple, help_text=_("None ticked: every area."),
    )
    count = forms.IntegerField(label=_("Questions"), min_value=1, max_value=MAX_QUESTIONS, initial=10)
    mix = forms.ChoiceField(label=_("Items"), choices=QuizMix.choices, initial=QuizMix.MIXED)
    minutes = forms.IntegerField(label=_("Time limit (minutes)"), min_value=1,
                                 max_value=MAX_TIME_LIMIT // 60, initial=15)
    layout = forms.ChoiceField(label=_("Layout"), choices=LAYOUT_CHOICES, initial="all")


class PresetStartForm(forms.Form):
    quiz = forms.ModelChoiceField(queryset=Quiz.objects.filter(is_active=True), to_field_name="slug",
                                  error_messages={"invalid_choice": _("That quiz is not offered.")})
    layout = forms.ChoiceField(choices=LAYOUT_CHOICES, required=False)


class SaveAnswerForm(forms.Form):
    """One autosave: which question, the text as typed, and the browser's save number."""

    position = forms.IntegerField(min_value=0, max_value=MAX_QUESTIONS - 1)
    text = forms.CharField(required=False, strip=False, max_length=MAX_TEXT)
    seq = forms.IntegerField(min_value=0, max_value=2**53, required=False)


class SelfGradeForm(forms.Form):
    position = forms.IntegerField(min_value=0, max_value=MAX_QUESTIONS - 1)
    correct = forms.TypedChoiceField(choices=[("1", _("I got it")), ("0", _("I missed it"))],
                                     coerce=lambda v: v == "1")


def submitted_answers(data, positions: list[int]) -> dict[int, str]:
    """The ``answer-<position>`` fields of a submitted quiz page (choices joined by commas)."""
    answers = {}
    for pos in positions:
        name = f"answer-{pos}"
        if name in data:
            values = data.getlist(name)
            answers[pos] = ",".join(values) if len(values) > 1 else values[0][:MAX_TEXT]
    return answers


# -- flashcards ---------------------------------------------------------------------------------

TIME_ZONES = sorted(zoneinfo.available_timezones())


class StudyProfileForm(forms.ModelForm):
    """Decks and scheduling settings of the flashcards."""

    desired_retention = forms.FloatField(
        label=_("Desired retention"), min_value=0.70, max_value=0.99,
        help_text=_("The chance of remembering a card when it comes due (0.70–0.99). Higher means more reviews."))
    timezone = forms.ChoiceField(label=_("Time zone"), choices=[(z, z) for z in TIME_ZONES],
                                 help_text=_("Your day starts at midnight here."))
    new_per_day = forms.IntegerField(label=_("New cards per day"), min_value=0, max_value=500)
    areas = forms.ModelMultipleChoiceField(
        label=_("Areas"), queryset=Area.objects.all(), to_field_name="slug", required=False,
        widget=forms.CheckboxSelectMultiple, help_text=_("None ticked: every area."))
    tags = forms.ModelMultipleChoiceField(
        label=_("Tags"), queryset=Tag.objects.all(), to_field_name="slug", required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}), help_text=_("Only questions with one of these tags."))

    class Meta:
        model = StudyProfile
        fields = ["areas", "tags", "min_importance", "new_per_day", "desired_retention", "timezone",
                  "interview_date"]
        widgets = {"interview_date": forms.DateInput(attrs={"type": "date"})}
        help_texts = {"interview_date": _("Optional. Retention rises toward 0.97 over the last 30 days before it.")}


class CheckAnswerForm(forms.Form):
    """A numeric flashcard's typed answer, with the signed token of the card that was shown."""

    token = forms.CharField(max_length=500)
    text = forms.CharField(required=False, strip=False, max_length=MAX_TEXT)


class RateForm(forms.Form):
    token = forms.CharField(max_length=500)
    rating = forms.TypedChoiceField(choices=[(str(k), k) for k in (1, 2, 3, 4)], coerce=int)
    text = forms.CharField(required=False, strip=False, max_length=MAX_TEXT)
