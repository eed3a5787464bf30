from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StudyappConfig(AppConfig):
    name = "studyapp"
    verbose_name = _("Deep-learning interview study")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from studyapp.models import Question
        from studyapp.selectors import forget_bank_stamp

        post_save.connect(forget_bank_stamp, sender=Question, dispatch_uid="bank-stamp-on-save")
        post_delete.connect(forget_bank_stamp, sender=Question, dispatch_uid="bank-stamp-on-delete")
