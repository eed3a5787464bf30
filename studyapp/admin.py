import difflib
import tempfile
from pathlib import Path

import yaml
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from studyapp import selectors, services
from studyapp.admin_forms import BankImportForm, QuestionEditForm
from studyapp.bankfile import BankFileError
from studyapp.models import Area, Attempt, Question, QuestionVersion, Quiz, Response, Tag
from studyapp.quiz import attempts_regrade


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "position"]
    search_fields = ["code", "name_zh", "name_en"]
    ordering = ["position"]


@admin.register(Quiz)
class QuizAdmin(admin.ModelAdmin):
    list_display = ["title_en", "title_zh", "question_count", "mix", "time_limit", "is_active", "position"]
    list_editable = ["is_active", "position"]
    list_filter = ["is_active", "mix", "areas"]
    search_fields = ["slug", "title_en", "title_zh"]
    prepopulated_fields = {"slug": ["title_en"]}
    filter_horizontal = ["areas"]


class ResponseInline(admin.TabularInline):
    model = Response
    extra = 0
    can_delete = False
    fields = ["position", "item", "seed", "expected", "text", "status", "score", "saved_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin):
    list_display = ["title", "user", "status", "score", "max_score", "started_at", "finished_at"]
    list_filter = ["status", "quiz", "started_at"]
    search_fields = ["user__username", "title"]
    date_hierarchy = "started_at"
    readonly_fields = ["id", "user", "quiz", "title", "spec", "time_limit", "started_at", "deadline",
                       "finished_at", "status", "score", "max_score", "regraded_at"]
    inlines = [ResponseInline]
    actions = ["regrade"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Regrade against the current question versions (dry run first)"),
                  permissions=["change"])
    def regrade(self, request, queryset):
        """First a dry run listing what would change; the confirmation page applies it."""
        apply = request.POST.get("apply") == "yes"
        changes = attempts_regrade(attempts=queryset, dry_run=not apply)
        if apply:
            self.message_user(request, _("%(n)d response(s) regraded.") % {"n": len(changes)},
                              messages.SUCCESS)
            return None
        return TemplateResponse(request, "admin/studyapp/attempt/regrade.html", {
            **self.admin_site.each_context(request), "title": _("Regrade: dry run"),
            "changes": changes, "queryset": queryset, "opts": self.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        })


# -- the question bank -------------------------------------------------------------------------

class ErratumFilter(admin.SimpleListFilter):
    title = _("source claims")
    parameter_name = "claims"

    def lookups(self, request, model_admin):
        return [("erratum", _("has an erratum")), ("underspecified", _("has an underspecified claim"))]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(current__claims__status=self.value()).distinct()
        return queryset


class VersionInline(admin.TabularInline):
    model = QuestionVersion
    extra = 0
    can_delete = False
    fields = ["number", "title_en", "created_at", "created_by", "content_hash"]
    readonly_fields = fields
    ordering = ["-number"]
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    form = QuestionEditForm
    change_form_template = "admin/studyapp/question/change_form.html"
    change_list_template = "admin/studyapp/question/change_list.html"
    list_display = ["code", "title", "area", "status", "version", "numeric_items", "errata", "draft_pending"]
    list_filter = ["area", "status", ErratumFilter, "importance", "difficulty"]
    list_select_related = ["area", "current"]
    search_fields = ["slug", "current__title_en", "current__title_zh"]
    filter_horizontal = ["tags"]
    inlines = [VersionInline]
    fieldsets = [
        (None, {"fields": ["slug", "area", "importance", "difficulty", "tags"]}),
        (_("Text"), {"fields": ["title_zh", "title_en", "prompt_zh", "prompt_en", "answer_zh", "answer_en"]}),
        (_("Sources, items and claims"), {"fields": ["sources", "items", "claims"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            n_numeric=Count("current__items", filter=Q(current__items__type="numeric"), distinct=True),
            n_errata=Count("current__claims", filter=Q(current__claims__status="erratum"), distinct=True))

    @admin.display(description=_("title"), ordering="current__title_en")
    def title(self, obj):
        return obj.current.title if obj.current else "—"

    @admin.display(description=_("version"), ordering="current__number")
    def version(self, obj):
        return obj.current.number if obj.current else "—"

    @admin.display(description=_("numeric items"), ordering="n_numeric")
    def numeric_items(self, obj):
        return obj.n_numeric

    @admin.display(description=_("errata"), ordering="n_errata")
    def errata(self, obj):
        return obj.n_errata

    @admin.display(description=_("draft"), boolean=True)
    def draft_pending(self, obj):
        return obj.draft is not None

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"publishing": "_publish" in request.POST})

    def save_model(self, request, obj, form, change):
        obj.save()  # slug, area, importance, difficulty; the content goes to a draft or a version

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        question = form.instance
        if form.publishing:
            version = services.question_publish(question=question, content=form.entry.content,
                                                author=request.user)
            self.message_user(request, _("Published %(q)s version %(n)d.")
                              % {"q": question.code, "n": version.number}, messages.SUCCESS)
        else:
            services.question_save_draft(question=question, raw=form.raw())
            self.message_user(request, _("Draft saved. The card still shows the published version; "
                                         "press “Publish” to make a new one."), messages.INFO)

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("<path:object_id>/preview/", self.admin_site.admin_view(self.preview_view),
                 name=f"{prefix}_preview"),
            path("<path:object_id>/versions/", self.admin_site.admin_view(self.versions_view),
                 name=f"{prefix}_versions"),
            path("import/", self.admin_site.admin_view(self.import_view), name=f"{prefix}_import"),
            *super().get_urls(),
        ]

    def preview_view(self, request, object_id):
        """The edited question as the card will show it, in both languages, with every numeric
        item solved, checked and put through the 100-variant test; nothing is saved."""
        obj = self.get_object(request, object_id) if object_id != "add" else None
        if obj is None and object_id != "add":
            raise Http404
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        if request.method != "POST":
            return redirect("admin:studyapp_question_change", object_id)
        form = self.get_form(request, obj, change=obj is not None)(request.POST, instance=obj)
        numeric, failures = [], []
        if form.is_valid():
            for n, item in enumerate(form.entry.content["items"]):
                if item["type"] == "numeric":
                    solution = services.engine_calculate(kind=item["kind"], params=item["params"])
                    numeric.append({"n": n, "item": item, "solution": solution,
                                    "asked": services.load_engine().answer_at(solution["answer"], item["answer_key"])})
            failures = form.variant_test()
        return TemplateResponse(request, "admin/studyapp/question/preview.html", {
            **self.admin_site.each_context(request), "title": _("Preview"), "opts": self.opts,
            "form": form, "content": form.entry.content if form.entry else None, "numeric": numeric,
            "failures": failures, "original": obj,
        })

    def versions_view(self, request, object_id):
        """Every published version, newest first, each with its changes from the one before."""
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        versions = list(obj.versions.select_related("created_by").prefetch_related("items", "claims")
                        .order_by("number"))
        rows, previous = [], ""
        for v in versions:
            text = yaml.safe_dump(selectors.question_export(obj, v), allow_unicode=True, sort_keys=False,
                                  width=100)
            diff = "\n".join(difflib.unified_diff(previous.splitlines(), text.splitlines(),
                                                   f"v{v.number - 1}", f"v{v.number}", lineterm="", n=1))
            rows.append({"version": v, "diff": diff})
            previous = text
        return TemplateResponse(request, "admin/studyapp/question/versions.html", {
            **self.admin_site.each_context(request), "title": _("Versions of %(q)s") % {"q": obj.code},
            "opts": self.opts, "original": obj, "rows": list(reversed(rows)),
        })

    def import_view(self, request):
        """Upload a bank file: validated as a whole, then loaded in one transaction or not at all."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = BankImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            suffix = ".json" if upload.name.lower().endswith(".json") else ".yaml"
            with tempfile.TemporaryDirectory() as folder:
                target = Path(folder) / f"{Path(upload.name).stem}{suffix}"
                with target.open("wb") as out:
                    for chunk in upload.chunks():
                        out.write(chunk)
                try:
                    report = services.bank_load(file=target)
                except BankFileError as exc:
                    form.add_error("file", _("Nothing was imported: %(error)s") % {"error": exc})
                else:
                    self.message_user(request, _("Imported: %(created)s created, %(unchanged)s unchanged.")
                                      % {"created": dict(report.created) or 0,
                                         "unchanged": dict(report.unchanged) or 0}, messages.SUCCESS)
                    return redirect("admin:studyapp_question_changelist")
        return TemplateResponse(request, "admin/studyapp/question/import.html", {
            **self.admin_site.each_context(request), "title": _("Import a bank file"), "opts": self.opts,
            "form": form,
        }, status=400 if form.errors else 200)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["slug"]
    list_display = ["slug"]
