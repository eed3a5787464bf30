"""The admin's question editor: bank-file fields validated by the same parser as load_bank,
with the engine's own messages, and the 100-variant test before a version is published."""

from __future__ import annotations

import re
from typing import Any

import yaml
from django import forms
from django.utils.translation import gettext_lazy as _

from studyapp import bankfile, selectors, services
from studyapp.models import Question

TEXT_FIELDS = ("title", "prompt", "answer")
YAML_FIELDS = ("sources", "items", "claims")
VARIANT_TEST = 100


def _dump(value: Any) -> str:
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False, width=100) if value else ""


class QuestionEditForm(forms.ModelForm):
    """Edit a question as in the bank files; saving keeps a draft, publishing makes a version."""

    title_zh = forms.CharField(label=_("Title (Chinese)"), max_length=200)
    title_en = forms.CharField(label=_("Title (English)"), max_length=200)
    prompt_zh = forms.CharField(label=_("Prompt (Chinese)"), widget=forms.Textarea(attrs={"rows": 4}))
    prompt_en = forms.CharField(label=_("Prompt (English)"), widget=forms.Textarea(attrs={"rows": 4}))
    answer_zh = forms.CharField(label=_("Answer (Chinese)"), widget=forms.Textarea(attrs={"rows": 14}),
                                help_text=_("Markdown with $...$ and $$...$$ math."))
    answer_en = forms.CharField(label=_("Answer (English)"), widget=forms.Textarea(attrs={"rows": 14}),
                                help_text=_("Markdown with $...$ and $$...$$ math."))
    sources = forms.CharField(label=_("Sources (YAML)"), required=False,
                              widget=forms.Textarea(attrs={"rows": 3, "class": "yaml"}),
                              help_text=_("- {seed: file name, section: '§...'}"))
    items = forms.CharField(label=_("Quiz items (YAML)"), widget=forms.Textarea(attrs={"rows": 18, "class": "yaml"}),
                            help_text=_("As in the bank files. Numeric items name an engine kind; its "
                                        "parameters are checked against the kind's schema, and publishing "
                                        "first runs 100 generated variants against the independent check."))
    claims = forms.CharField(label=_("Source claims (YAML)"), required=False,
                             widget=forms.Textarea(attrs={"rows": 8, "class": "yaml"}))

    publishing = False  # set by the admin when the Publish button was pressed

    class Meta:
        model = Question
        fields = ["slug", "area", "importance", "difficulty", "tags"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        raw = selectors.question_editable(self.instance) if self.instance.pk else None
        if raw and not self.is_bound:
            for field in TEXT_FIELDS:
                self.initial[f"{field}_zh"] = raw[field]["zh-hans"]
                self.initial[f"{field}_en"] = raw[field]["en"]
            for field in YAML_FIELDS:
                self.initial[field] = _dump(raw.get(field))
        self.entry: bankfile.QuestionEntry | None = None
        self.variant_failures: list[str] = []

    def _yaml(self, field: str) -> Any:
        try:
            return yaml.safe_load(self.cleaned_data.get(field) or "") or []
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            self.add_error(field, _("Not valid YAML%(where)s: %(problem)s")
                           % {"where": where, "problem": getattr(exc, "problem", exc)})
            return None

    def raw(self) -> dict[str, Any]:
        """The question in the bank-file format, as typed."""
        data = self.cleaned_data
        return {
            "slug": data.get("slug"), "importance": data.get("importance"),
            "difficulty": data.get("difficulty"), "tags": [t.slug for t in data.get("tags") or []],
            **{f: {"zh-hans": data.get(f"{f}_zh", ""), "en": data.get(f"{f}_en", "")} for f in TEXT_FIELDS},
            **{f: self._yaml(f) for f in YAML_FIELDS},
        }

    def clean(self):
        data = super().clean()
        if self.errors or data.get("area") is None:
            return data
        raw = self.raw()
        if self.errors:
            return data
        try:
            self.entry = bankfile.parse_question(raw, area=data["area"].slug,
                                                 check=services.engine_check_binding)
        except bankfile.BankFileError as exc:
            self.add_error(self._field_of(str(exc)), str(exc).split(": ", 2)[-1])
            return data
        if self.publishing:
            self.variant_failures = self.variant_test()
            if self.variant_failures:
                self.add_error("items", _("Not published: %(n)d generated variant(s) fail. %(list)s")
                               % {"n": len(self.variant_failures), "list": "; ".join(self.variant_failures[:8])})
        return data

    def variant_test(self, variants: int = VARIANT_TEST) -> list[str]:
        """Every numeric item's canonical example and ``variants`` generated variants, solved and
        checked; a line per failure."""
        failures = []
        for n, item in enumerate(self.entry.content["items"] if self.entry else []):
            if item["type"] != "numeric":
                continue
            for seed, error in services.variant_failures(
                    kind=item["kind"], params=item["params"], fixed=item.get("fixed", []),
                    answer_key=item["answer_key"], variants=variants if item.get("vary", True) else 0):
                failures.append(f"items[{n}] {'example' if seed is None else f'seed {seed}'}: {error}")
        return failures

    @staticmethod
    def _field_of(message: str) -> str | None:
        """The form field a parser message is about ("question 'x': items[0].params: ...")."""
        match = re.search(r": (title|prompt|answer|sources|items|claims|tags|importance|difficulty|slug)\b",
                          message)
        if not match:
            return None
        name = match.group(1)
        return f"{name}_en" if name in TEXT_FIELDS else name


class BankImportForm(forms.Form):
    file = forms.FileField(label=_("Bank file (YAML or JSON, as export_bank writes it)"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".yaml", ".yml", ".json")):
            raise forms.ValidationError(_("Choose a .yaml, .yml or .json file."))
        if upload.size > 20 * 1024 * 1024:
            raise forms.ValidationError(_("The file is larger than 20 MB."))
        return upload
