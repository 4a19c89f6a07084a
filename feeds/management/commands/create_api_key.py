from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from feeds.models import Team, TeamAPIKey


class Command(BaseCommand):
    help = ("Create an API key for a team. The raw key is printed once, as the last line; "
            "only its hash is stored.")

    def add_arguments(self, parser):
        parser.add_argument("team_slug")
        parser.add_argument("--name", default="cli", help="a label for the key (50 characters max)")
        parser.add_argument("--expires-in-days", type=int, default=None, help="default: never expires")
        parser.add_argument("--replace", action="store_true",
                            help="revoke the team's other keys with this name (key rotation)")

    def handle(self, team_slug, name, expires_in_days, replace, **options):
        try:
            team = Team.objects.get(slug=team_slug)
        except Team.DoesNotExist:
            raise CommandError(f"No team '{team_slug}'. Create it with: manage.py create_team {team_slug}")
        if replace:
            revoked = TeamAPIKey.objects.filter(team=team, name=name[:50], revoked=False).update(revoked=True)
            self.stdout.write(f"Revoked {revoked} earlier key(s) named '{name[:50]}'.")
        expiry = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
        key, raw = TeamAPIKey.objects.create_key(team=team, name=name[:50], expiry_date=expiry)
        self.stdout.write(f"API key '{key.name}' (prefix {key.prefix}) for team '{team.slug}'. "
                          "Store it now: it is not shown again.")
        self.stdout.write(raw)
