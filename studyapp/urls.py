from django.contrib import admin
from django.urls import include, path

from studyapp import views

# The app's own pages live in the "studyapp" namespace: reverse("studyapp:home").
studyapp_patterns = [
    path("", views.home, name="home"),
    path("questions/", views.question_list, name="question_list"),
    path("questions/<slug:slug>/", views.question_detail, name="question_detail"),
    path("engine/", views.engine_index, name="engine_index"),
    path("engine/<str:kind>/", views.engine_calculator, name="engine_calculator"),
    path("healthz", views.healthz, name="healthz"),
]

urlpatterns = [
    path("", include((studyapp_patterns, "studyapp"))),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
