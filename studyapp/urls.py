from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.authtoken.views import obtain_auth_token

from studyapp import api, views

# The app's own pages live in the "studyapp" namespace: reverse("studyapp:home").
studyapp_patterns = [
    path("", views.home, name="home"),
    path("questions/", views.question_list, name="question_list"),
    path("questions/<slug:slug>/", views.question_detail, name="question_detail"),
    path("engine/", views.engine_index, name="engine_index"),
    path("engine/<str:kind>/", views.engine_calculator, name="engine_calculator"),
    path("quizzes/", views.quiz_index, name="quiz_index"),
    path("quizzes/start/", views.quiz_start, name="quiz_start"),
    path("quizzes/attempts/<uuid:attempt_id>/", views.attempt_take, name="attempt"),
    path("quizzes/attempts/<uuid:attempt_id>/save/", views.attempt_save, name="attempt_save"),
    path("quizzes/attempts/<uuid:attempt_id>/submit/", views.attempt_submit, name="attempt_submit"),
    path("quizzes/attempts/<uuid:attempt_id>/review/", views.attempt_review, name="attempt_review"),
    path("quizzes/attempts/<uuid:attempt_id>/self-grade/", views.attempt_self_grade,
         name="attempt_self_grade"),
    path("quizzes/attempts/<uuid:attempt_id>/retake/", views.attempt_retake, name="attempt_retake"),
    path("study/", views.study_index, name="study_index"),
    path("study/review/", views.study_review, name="study_review"),
    path("study/check/", views.study_check, name="study_check"),
    path("study/rate/", views.study_rate, name="study_rate"),
    path("study/undo/", views.study_undo, name="study_undo"),
    path("study/export.apkg", views.study_export, name="study_export"),
    path("healthz", views.healthz, name="healthz"),
    path("ping", views.ping, name="ping"),
    path("language/", views.language, name="language"),
]

api_patterns = [
    path("questions/", api.QuestionList.as_view(), name="questions"),
    path("questions/<slug:slug>/", api.QuestionDetail.as_view(), name="question"),
    path("engine/", api.EngineKinds.as_view(), name="engine_kinds"),
    path("engine/<str:kind>/solve/", api.EngineSolve.as_view(), name="engine_solve"),
    path("attempts/", api.AttemptList.as_view(), name="attempts"),
    path("attempts/<uuid:attempt_id>/", api.AttemptDetail.as_view(), name="attempt"),
    path("attempts/<uuid:attempt_id>/answers/", api.AttemptAnswer.as_view(), name="attempt_answer"),
    path("attempts/<uuid:attempt_id>/submit/", api.AttemptSubmit.as_view(), name="attempt_submit"),
    path("study/next/", api.StudyNext.as_view(), name="study_next"),
    path("study/rate/", api.StudyRate.as_view(), name="study_rate"),
    path("token/", obtain_auth_token, name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]

urlpatterns = [
    path("api/", include((api_patterns, "api"))),
    path("", include((studyapp_patterns, "studyapp"))),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
