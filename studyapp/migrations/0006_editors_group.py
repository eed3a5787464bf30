"""The "editors" group: staff who may edit the question bank in the admin."""

from django.db import migrations

BANK_MODELS = ["area", "tag", "question", "questionversion", "quizitem", "sourceclaim", "quiz"]


def create_editors(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():  # permissions exist before the first post_migrate
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    editors, _ = Group.objects.get_or_create(name="editors")
    perms = Permission.objects.filter(content_type__app_label="studyapp",
                                      content_type__model__in=BANK_MODELS)
    perms = perms.exclude(codename__startswith="delete_questionversion")
    editors.permissions.add(*perms)
    editors.permissions.add(*Permission.objects.filter(content_type__app_label="studyapp",
                                                       codename__in=["view_attempt", "change_attempt"]))


def remove_editors(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="editors").delete()


class Migration(migrations.Migration):
    dependencies = [("studyapp", "0005_authoring"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create_editors, remove_editors)]
