from django.core.management.base import BaseCommand, CommandError

from feeds.models import Team


class Command(BaseCommand):
    help = "Create a team (tenant). Prints the slug as the last line."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="short identifier, e.g. platform-team")
        parser.add_argument("--name", default="", help="display name")
        parser.add_argument("--exist-ok", action="store_true", help="succeed if the team already exists")

    def handle(self, slug, name, exist_ok, **options):
        team, created = Team.objects.get_or_create(slug=slug, defaults={"name": name})
        if not created and not exist_ok:
            raise CommandError(f"Team '{slug}' already exists (use --exist-ok to accept that).")
        self.stdout.write(f"{'Created' if created else 'Found'} team '{team.slug}'.")
        self.stdout.write(team.slug)
