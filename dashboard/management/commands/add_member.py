from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from dashboard.models import Membership
from feeds.models import Team


class Command(BaseCommand):
    help = ("Add a user to a team's dashboard, creating the user if needed. Without --password a "
            "new user has no usable password (set one in admin or with changepassword).")

    def add_arguments(self, parser):
        parser.add_argument("team", help="the team's slug")
        parser.add_argument("username")
        parser.add_argument("--password", help="set this password (also for an existing user)")

    @transaction.atomic
    def handle(self, team, username, password, **options):
        team_obj = Team.objects.filter(slug=team).first()
        if team_obj is None:
            raise CommandError(f"No team '{team}' (create it with: manage.py create_team {team})")
        users = get_user_model().objects
        user, created = users.get_or_create(username=username)
        if password:
            user.set_password(password)
            user.save()
        elif created:
            user.set_unusable_password()
            user.save()
        _, joined = Membership.objects.get_or_create(user=user, team=team_obj)
        self.stdout.write(f"{'Created' if created else 'Found'} user '{username}'; "
                          f"{'added to' if joined else 'already in'} team '{team_obj.slug}'.")
