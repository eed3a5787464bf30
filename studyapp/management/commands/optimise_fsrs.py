from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db.models import Count, Q
from django.utils import timezone

from studyapp.flashcards import OPTIMISE_MIN_REVIEWS, profile_optimise


class Command(BaseCommand):
    help = ("Fit FSRS parameters to each user's own reviews (users with enough reviews whose fit is "
            "older than --every days). Run daily.")

    def add_arguments(self, parser):
        parser.add_argument("--user", help="only this user name")
        parser.add_argument("--min-reviews", type=int, default=OPTIMISE_MIN_REVIEWS)
        parser.add_argument("--every", type=float, default=7, help="days between fits of one user")

    def handle(self, *args, **options):
        stale = timezone.now() - timedelta(days=options["every"])
        users = get_user_model().objects.annotate(n=Count("reviews")).filter(n__gte=options["min_reviews"])
        if options["user"]:
            users = users.filter(username=options["user"])
        else:
            users = users.filter(Q(study_profile__optimised_at__isnull=True)
                                 | Q(study_profile__optimised_at__lt=stale))
        for user in users:
            params = profile_optimise(user=user, min_reviews=options["min_reviews"])
            state = "fitted" if params else "skipped (not enough reviews)"
            self.stdout.write(f"{user.get_username()}: {user.n} reviews, {state}")
