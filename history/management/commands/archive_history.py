from django.core.management.base import BaseCommand

from history.archiver import archive_all


class Command(BaseCommand):
    help = ("Store every team's pending points in the history tables now, then delete the days older "
            "than ARGUS_HISTORY_DAYS (what celery beat's periodic run does, without a time budget).")

    def handle(self, **options):
        result = archive_all()
        self.stdout.write(f"Stored {result.points} points of {result.teams} teams; "
                          f"deleted {result.expired_days} expired server-days.")
