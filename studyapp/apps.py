from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StudyappConfig(AppConfig):
    name = "studyapp"
    verbose_name = _("Deep-learning interview study")
