"""State changes, and the one door to the engine.

Views and commands call these; nothing else writes the bank. The engine (and
so torch) is imported lazily, only by the functions that compute.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F as models_F

from studyapp import bankfile, plots
from studyapp.bankfile import BindingError
from studyapp.models import (
    Area,
    ClaimStatus,
    Question,
    QuestionStatus,
    QuestionVersion,
    QuizItem,
    SourceClaim,
    Tag,
    Variant,
)

DEFAULT_BANK_DIR = Path(settings.BASE_DIR) / "fixtures" / "bank"
CANONICAL_SEED = 0  # variant 0 of a numeric item is its canonical (worked) example


# -- the engine ------------------------------------------------------------------

@functools.cache
def load_engine():
    """Import the engine on first use (keeps torch out of migrate and friends).

    Engine tensors are tiny: intra-op threads only add latency spikes and make
    workers fight over cores, so each process computes on ENGINE_THREADS threads.
    """
    import torch

    import engine

    torch.set_num_threads(settings.ENGINE_THREADS)
    return engine


def engine_solve(*, kind: str, params: dict[str, Any]):
    """Solve with the engine on the configured device (``ENGINE_DEVICE``)."""
    return load_engine().solve(kind, params, settings.ENGINE_DEVICE)


def engine_check_binding(binding: dict[str, Any]) -> dict[str, Any]:
    """Validate kind, params and answer_key of a numeric binding; BindingError names the field."""
    engine = load_engine()
    try:
        kind = engine.get_kind(binding["kind"])
    except ValueError as exc:
        raise BindingError("kind", str(exc)) from None
    try:
        params = kind.validate(binding["params"])
    except ValueError as exc:
        raise BindingError("params", str(exc)) from None
    fixed = binding.get("fixed", [])
    if not isinstance(fixed, list) or not set(fixed) <= {p.name for p in kind.params}:
        raise BindingError("fixed", f"must list parameter names of {kind.name}, got {fixed!r}")
    key = binding["answer_key"]
    if not isinstance(key, str) or not key:
        raise BindingError("answer_key", f"missing; {kind.name} answers "
                           f"{', '.join(a.name for a in kind.answers)}")
    try:
        engine.answer_at(engine.solve(kind.name, params, "cpu").answer, key)
    except ValueError as exc:
        raise BindingError("answer_key", str(exc)) from None
    return params


def claim_evaluate(*, kind: str, params: dict[str, Any], answer_key: str,
                   value: Any) -> tuple[Any, str]:
    """Compute a source claim with the engine: (computed value, verified | erratum)."""
    engine = load_engine()
    solution = engine_solve(kind=kind, params=params)
    computed = engine.answer_at(solution.answer, answer_key)
    from engine.compare import agrees_as_stated

    status = ClaimStatus.VERIFIED if agrees_as_stated(value, computed) else ClaimStatus.ERRATUM
    return computed, status


# -- loading the bank --------------------------------------------------------------

@dataclass
class LoadReport:
    """What ``bank_load`` did, per model: created, updated and unchanged rows."""

    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)

    def count(self, bucket: str, model: str) -> None:
        counts = getattr(self, bucket)
        counts[model] = counts.get(model, 0) + 1

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def content_hash(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _upsert(model, existing, key: str, values: dict[str, Any], report: LoadReport, name: str):
    obj = existing.get(values[key])
    if obj is None:
        obj = model(**values)
        obj.full_clean()
        obj.save()
        report.count("created", name)
        return obj
    if all(getattr(obj, k) == v for k, v in values.items()):
        report.count("unchanged", name)
        return obj
    for k, v in values.items():
        setattr(obj, k, v)
    obj.full_clean()
    obj.save()
    report.count("updated", name)
    return obj


@transaction.atomic
def bank_load(*, bank_dir: Path = DEFAULT_BANK_DIR, file: Path | None = None) -> LoadReport:
    """Load the bank files into the database, idempotently.

    Every file is parsed and validated first (``bankfile`` raises
    ``BankFileError`` naming file, entry and field); the writes then run in one
    transaction, so a bad file leaves the database as it was. Unchanged content
    is not written again; changed content becomes a new published version.
    With ``file``, the bank is read from one exported file instead of the folder.
    """
    if file is not None:
        areas, questions = bankfile.read_bank_file(file, engine_check_binding)
    else:
        areas = bankfile.read_areas(bank_dir)
        questions = bankfile.read_questions(bank_dir, {a.slug for a in areas},
                                            engine_check_binding)
    report = LoadReport()
    existing_areas = {a.slug: a for a in Area.objects.all()}
    area_by_slug = {
        entry.slug: _upsert(Area, existing_areas, "slug", asdict(entry), report, "area")
        for entry in areas
    }
    existing = {q.slug: q for q in Question.objects.select_related("current")}
    tags = {t.slug: t for t in Tag.objects.all()}
    for entry in questions:
        values = {"slug": entry.slug, "area": area_by_slug[entry.area], "position": entry.position,
                  "importance": entry.importance, "difficulty": entry.difficulty,
                  "status": QuestionStatus.PUBLISHED}
        question = _upsert(Question, existing, "slug", values, report, "question")
        for slug in entry.tags:
            if slug not in tags:
                tags[slug] = Tag.objects.create(slug=slug)
        if {t.slug for t in question.tags.all()} != set(entry.tags):
            question.tags.set([tags[s] for s in entry.tags])
        digest = content_hash(entry.content)
        if question.current is not None and question.current.content_hash == digest:
            report.count("unchanged", "version")
            continue
        question_publish(question=question, content=entry.content, digest=digest)
        report.count("created", "version")
    return report


def question_publish(*, question: Question, content: dict[str, Any],
                     digest: str | None = None, author=None) -> QuestionVersion:
    """Create the next immutable version of ``question`` from ``content`` and publish it
    (any saved draft is done with). Past attempts and reviews keep pointing at their version."""
    number = (question.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    version = QuestionVersion(
        question=question, number=number,
        title_zh=content["title"]["zh-hans"], title_en=content["title"]["en"],
        prompt_zh=content["prompt"]["zh-hans"], prompt_en=content["prompt"]["en"],
        answer_zh=content["answer"]["zh-hans"], answer_en=content["answer"]["en"],
        sources=content["sources"], content_hash=digest or content_hash(content), created_by=author,
    )
    version.full_clean()
    version.save()
    for position, item in enumerate(content["items"]):
        quiz_item_create(version=version, position=position, item=item)
    for position, claim in enumerate(content["claims"]):
        source_claim_create(version=version, position=position, claim=claim)
    question.current, question.draft = version, None
    question.status = QuestionStatus.PUBLISHED
    question.save(update_fields=["current", "draft", "status", "updated_at"])
    return version


def question_save_draft(*, question: Question, raw: dict[str, Any]) -> None:
    """Keep edits (bank-file format, already validated) without publishing them."""
    question.draft = raw
    question.save(update_fields=["draft", "updated_at"])


def quiz_item_create(*, version: QuestionVersion, position: int, item: dict[str, Any]) -> QuizItem:
    obj = QuizItem(
        version=version, position=position, type=item["type"],
        prompt_zh=item["prompt"]["zh-hans"], prompt_en=item["prompt"]["en"],
        kind=item.get("kind", ""), params=item.get("params", {}), vary=item.get("vary", True),
        fixed=item.get("fixed", []), answer_key=item.get("answer_key", ""),
        rtol=item.get("rtol"), atol=item.get("atol"), options=item.get("options", []),
        explanation_zh=item["explanation"]["zh-hans"], explanation_en=item["explanation"]["en"],
    )
    obj.full_clean()
    obj.save()
    return obj


def source_claim_create(*, version: QuestionVersion, position: int,
                        claim: dict[str, Any]) -> SourceClaim:
    obj = SourceClaim(
        version=version, position=position, seed=claim["source"]["seed"],
        section=claim["source"]["section"], stated=claim["stated"],
        explanation_zh=claim["explanation"]["zh-hans"], explanation_en=claim["explanation"]["en"],
    )
    if claim["underspecified"]:
        obj.status = ClaimStatus.UNDERSPECIFIED
    else:
        obj.kind, obj.params, obj.answer_key = claim["kind"], claim["params"], claim["answer_key"]
        obj.stated_value = claim["value"]
        obj.computed_value, obj.status = claim_evaluate(
            kind=obj.kind, params=obj.params, answer_key=obj.answer_key, value=obj.stated_value
        )
    obj.full_clean()
    obj.save()
    return obj


# -- variants --------------------------------------------------------------------------

def variant_get_or_create(*, item: QuizItem, seed: int) -> Variant:
    """The stored variant ``seed`` of a numeric item (0 = the canonical example).

    The first request computes and stores it; every later one reads the stored
    numbers, so reloads and later reviews show the same variant and grading
    never depends on recomputation.
    """
    if item.type != "numeric":
        raise ValueError(f"item {item.pk} is not numeric")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    stored = Variant.objects.filter(item=item, seed=seed).first()
    if stored is not None:
        return stored
    engine = load_engine()
    if seed == CANONICAL_SEED or not item.vary:
        solution = engine_solve(kind=item.kind, params=item.params)
    else:
        canonical = engine.get_kind(item.kind).validate(item.params)
        fixed = {k: canonical[k] for k in item.fixed}
        solution = engine.sample(item.kind, seed, settings.ENGINE_DEVICE, fixed=fixed, like=canonical)
    variant, _ = Variant.objects.get_or_create(
        item=item, seed=seed,
        defaults={"params": solution.params, "answer": solution.answer,
                  "engine_versions": solution.versions},
    )
    return variant


# -- verifying the bank ----------------------------------------------------------------

def variant_failures(*, kind: str, params: dict[str, Any], fixed: list[str], answer_key: str,
                     variants: int) -> list[tuple[int | None, str]]:
    """Solve the canonical example (seed None) and ``variants`` seeded variants of a numeric
    binding; ``(seed, reason)`` for each that errs, lacks the asked key, or fails its check."""
    engine = load_engine()
    try:
        canonical = engine.get_kind(kind).validate(params)
    except ValueError as exc:
        return [(None, str(exc))]
    kept = {k: canonical[k] for k in fixed}
    failures = []
    for seed in [None, *range(1, variants + 1)]:
        try:
            solution = (engine.solve(kind, params, "cpu") if seed is None else
                        engine.sample(kind, seed, "cpu", fixed=kept, like=canonical))
            engine.answer_at(solution.answer, answer_key)
        except (ValueError, RuntimeError) as exc:
            failures.append((seed, str(exc)))
            continue
        if not solution.verification.passed:
            failures.append((seed, "engine and check disagree by "
                                   f"{solution.verification.max_abs_error:.3g}"))
    return failures


def bank_verify(*, variants: int = 0) -> dict[str, Any]:
    """Recompute every published numeric item (canonical example and ``variants`` seeded
    variants) and every source claim with the engine.

    A disagreement is an engine answer that fails its independent check, or a
    binding that no longer resolves. Errata are findings, not failures.
    """
    items = QuizItem.objects.filter(
        type="numeric", version__question__current=models_F("version")
    ).select_related("version__question")
    problems: list[dict[str, Any]] = []
    count = 0
    for item in items:
        count += 1
        slug = item.version.question.slug
        for seed, error in variant_failures(kind=item.kind, params=item.params, fixed=item.fixed,
                                            answer_key=item.answer_key,
                                            variants=variants if item.vary else 0):
            problems.append({"question": slug, "item": item.position, "seed": seed, "error": error})
    claims = []
    for claim in SourceClaim.objects.filter(
        version__question__current=models_F("version")
    ).select_related("version__question"):
        row = {"question": claim.version.question.slug,
               "source": f"{claim.seed} {claim.section}".strip(),
               "stated": claim.stated, "computed": None, "status": claim.status}
        if claim.status != ClaimStatus.UNDERSPECIFIED:
            try:
                row["computed"], row["status"] = claim_evaluate(
                    kind=claim.kind, params=claim.params, answer_key=claim.answer_key,
                    value=claim.stated_value)
            except ValueError as exc:
                problems.append({"question": row["question"], "claim": claim.position,
                                 "error": str(exc)})
        claims.append(row)
    return {"items": count, "claims": claims, "disagreements": len(problems),
            "problems": problems}


@dataclass(frozen=True)
class WorkedItem:
    """A numeric item as the card shows it: the variant's numbers and the engine's solution."""

    item: QuizItem
    variant: Variant
    asked: Any
    solution: dict[str, Any]


def item_worked(*, item: QuizItem, seed: int) -> WorkedItem:
    """The stored variant ``seed`` of a numeric item with its full worked solution.

    The answer comes from the stored variant; the steps are recomputed from its
    params (cached: the same params always give the same steps).
    """
    variant = variant_get_or_create(item=item, seed=seed)
    key = "solution:v1:" + hashlib.sha256(
        json.dumps([item.kind, variant.params, variant.engine_versions], sort_keys=True).encode()
    ).hexdigest()
    solution = cache.get(key)
    if solution is None:
        solution = engine_solve(kind=item.kind, params=variant.params).to_dict()
        cache.set(key, solution, 24 * 3600)
    asked = load_engine().answer_at(variant.answer, item.answer_key)
    return WorkedItem(item=item, variant=variant, asked=asked, solution=solution)


# -- what-if calculators ------------------------------------------------------------------

def engine_kinds() -> list[dict[str, Any]]:
    engine = load_engine()
    return [engine.get_kind(name).schema() for name in engine.list_kinds()]


def engine_schema(*, kind: str) -> dict[str, Any]:
    """The kind's schema; ValueError for an unknown kind."""
    return load_engine().get_kind(kind).schema()


def answer_is_exact(*, item: QuizItem) -> bool:
    """Whether a numeric item's asked answer is compared exactly (integers and shapes)."""
    root = re.match(r"[A-Za-z_][A-Za-z0-9_]*", item.answer_key).group(0)
    return load_engine().get_kind(item.kind).answer_type(root) in ("integer", "shape")


def engine_example(*, kind: str) -> dict[str, Any]:
    """A ready-to-edit example for a calculator (the kind's variant 0)."""
    return load_engine().sample_params(kind, 0)


def engine_calculate(*, kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """Solve for a calculator; ValueError names the bad parameter."""
    return engine_solve(kind=kind, params=params).to_dict()


PLOT_STEPS = 400  # points on a schedule's curve


def calculator_plot(*, kind: str, params: dict[str, Any], english: bool) -> str:
    """An SVG chart for the calculators where a picture says more than the numbers
    (activations and derivatives, a schedule over steps, a convolution's windows,
    optimiser paths); "" otherwise."""
    engine = load_engine()
    p = engine.get_kind(kind).validate(params)
    if kind == "activation":
        grid = [round(-6 + 0.05 * i, 2) for i in range(241)]
        answer = engine_solve(kind=kind, params={**p, "x": grid}).answer
        return plots.line_chart(
            [plots.Series(p["name"], grid, answer["value"]),
             plots.Series(p["name"] + "′", grid, answer["derivative"], dashed=True)],
            title=(f"{p['name']} and its derivative" if english else f"{p['name']} 及其导数"),
            x_label="x", y_label="f(x), f′(x)")
    if kind == "lr_schedule":
        last = max(p["step"], *(p.get(k) or 0 for k in ("decay_steps", "warmup_steps")), 10)
        last = min(int(last * 1.5) + 1, 10**6)
        steps = sorted({round(last * i / PLOT_STEPS) for i in range(PLOT_STEPS + 1)})
        rates = [a["lr"] for a in engine.solve_batch(kind, [{**p, "step": s} for s in steps])]
        return plots.line_chart(
            [plots.Series(p["name"], steps, rates)],
            title=("Learning rate over training steps" if english else "学习率随训练步数的变化"),
            x_label="step" if english else "步数", y_label="lr")
    if kind == "conv2d" and isinstance(p["input"][0][0], float) and isinstance(
            p["weight"][0][0], float) and len(p["input"]) <= 12 and len(p["input"][0]) <= 12:
        output = engine_solve(kind=kind, params=p).answer["output"]
        return plots.conv_windows(
            p["input"], kernel=len(p["weight"]), stride=p["stride"], padding=p["padding"],
            dilation=p["dilation"], output=output,
            title=("The kernel sliding over the padded input, and the outputs it makes" if english
                   else "卷积核在补零后的输入上滑动，以及得到的输出"))
    if kind == "optimizer" and len(p["theta0"]) == 2:
        names = ("sgd", "momentum", "adam") if p.get("objective") else (p["name"],)
        paths = []
        for name in names:
            run = p if name == p["name"] else {
                k: v for k, v in p.items()
                if k in ("theta0", "grads", "objective", "curvature", "steps", "lr")}
            trajectory = engine_solve(kind=kind, params={**run, "name": name}).answer["trajectory"]
            points = [p["theta0"], *trajectory]
            paths.append(plots.Series(name, [q[0] for q in points], [q[1] for q in points]))
        optimum = {"quadratic": (0.0, 0.0), "rosenbrock": (1.0, 1.0)}.get(p.get("objective"))
        return plots.path_chart(
            paths, optimum=optimum,
            title=("Optimiser iterates θ_t" if english else "优化器的迭代轨迹 θ_t"),
            x_label="θ₁", y_label="θ₂")
    return ""


@functools.cache
def engine_source(*, kind: str) -> str:
    """The torch code that computes ``kind`` (its ``solve`` method), for "show the torch code"."""
    import inspect
    import textwrap

    return textwrap.dedent(inspect.getsource(type(load_engine().get_kind(kind)).solve))


def engine_command(*, kind: str, params: dict[str, Any]) -> str:
    """The shell command that reproduces an answer with the engine's CLI."""
    import shlex

    return (f"python -m engine solve {kind} --params "
            f"{shlex.quote(json.dumps(params, ensure_ascii=False, separators=(', ', ': ')))}")


# -- ready-made quizzes ------------------------------------------------------------------------

DEFAULT_QUIZZES_FILE = Path(settings.BASE_DIR) / "fixtures" / "quizzes.yaml"


def quizzes_load(*, path: Path = DEFAULT_QUIZZES_FILE) -> int:
    """Create or update the staff quizzes of a YAML file (by slug). Returns how many.

    Raises BankFileError naming the entry and field when the file is invalid;
    nothing is written then.
    """
    import yaml

    from studyapp.models import Quiz

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise bankfile.BankFileError(path, "file", f"cannot read: {exc}") from None
    entries = data.get("quizzes")
    if not isinstance(entries, list):
        raise bankfile.BankFileError(path, "file", "expected a 'quizzes' list")
    areas = {a.slug: a for a in Area.objects.all()}
    rows = []
    for n, raw in enumerate(entries):
        where = f"quizzes[{n}]"
        try:
            slug, title = raw["slug"], raw["title"]
            unknown = [a for a in raw.get("areas") or [] if a not in areas]
            if unknown:
                raise ValueError(f"areas: unknown area {', '.join(unknown)}")
            values = {
                "title_zh": title["zh-hans"], "title_en": title["en"],
                "description_zh": (raw.get("description") or {}).get("zh-hans", ""),
                "description_en": (raw.get("description") or {}).get("en", ""),
                "question_count": int(raw.get("question_count", 10)),
                "mix": raw.get("mix", "mixed"), "time_limit": int(raw.get("time_limit", 900)),
                "position": n, "is_active": bool(raw.get("active", True)),
            }
            if values["mix"] not in ("numeric", "mixed"):
                raise ValueError(f"mix: must be numeric or mixed, got {values['mix']!r}")
            if not 1 <= values["question_count"] <= 50 or not 1 <= values["time_limit"] <= 4 * 3600:
                raise ValueError("question_count must be 1-50 and time_limit 1-14400 seconds")
        except (KeyError, TypeError) as exc:
            raise bankfile.BankFileError(path, where, f"missing or malformed field {exc}") from None
        except ValueError as exc:
            raise bankfile.BankFileError(path, where, str(exc)) from None
        rows.append((slug, values, [areas[a] for a in raw.get("areas") or []]))
    with transaction.atomic():
        for slug, values, quiz_areas in rows:
            quiz, _ = Quiz.objects.update_or_create(slug=slug, defaults=values)
            quiz.areas.set(quiz_areas)
    return len(rows)
