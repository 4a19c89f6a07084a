"""Django admin: the model registry and training jobs, and a "fine-tune" action on teams. Models
are made by training and migrate only; admin activates (or rolls back) and cancels."""
from django.conf import settings
from django.contrib import admin, messages

from feeds.admin import TeamAdmin

from .jobs import JobConflict, NotEnoughHistory, cancel_job, start_job
from .models import ForecastModel, TrainingJob
from .promotion import CannotActivate, activate
from .views import DEFAULT_DAYS, DEFAULT_MINUTES


@admin.action(description=f"Fine-tune the team's model ({DEFAULT_MINUTES} minutes, last {DEFAULT_DAYS} days)")
def fine_tune(modeladmin, request, queryset):
    for team in queryset:
        try:
            job = start_job(team, DEFAULT_MINUTES, min(DEFAULT_DAYS, settings.ARGUS_HISTORY_DAYS),
                            requested_by=f"admin {request.user.get_username()}")
        except (JobConflict, NotEnoughHistory) as e:
            modeladmin.message_user(request, f"No training job for {team.slug}: {e}", messages.WARNING)
        else:
            modeladmin.message_user(request, f"Training job {job.pk} queued for {team.slug}")


TeamAdmin.actions = [*(TeamAdmin.actions or []), fine_tune]


class ReadOnly:
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ForecastModel)
class ForecastModelAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("version", "team", "state", "backtest", "created", "activated")
    list_filter = ("state", "team")
    search_fields = ("version", "team__slug")
    list_select_related = ("team",)
    exclude = ("blob",)
    actions = ["make_active"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("blob")

    def has_delete_permission(self, request, obj=None):
        # an active model (a team's, or the global default) or one in training is never deleted
        return obj is None or obj.state not in (ForecastModel.ACTIVE, ForecastModel.TRAINING)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a bulk delete would not ask the per-model question
        return actions

    @admin.display(description="backtest (MAE / seasonal naive's)")
    def backtest(self, model):
        figures = model.figures or {}
        if "candidate" not in figures:
            return "-"
        return (f"{figures['candidate']['relative_mase']:.3f} against the active "
                f"{figures['active']['relative_mase']:.3f}")

    @admin.action(description="Make active for its team (promote, or roll back to it)")
    def make_active(self, request, queryset):
        for model in queryset.select_related("team"):
            if model.team is None:
                self.message_user(request, f"{model.version} is the global default: activate it with "
                                           "POST /models/<version>/activate per team", messages.WARNING)
                continue
            try:
                activate(model.team, model)
            except CannotActivate as e:
                self.message_user(request, f"Not activated: {e}", messages.WARNING)
            else:
                self.message_user(request, f"Now {model.team.slug}'s active model: {model.version}")


@admin.register(TrainingJob)
class TrainingJobAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("id", "team", "state", "phase", "epoch", "eta", "created", "finished")
    list_filter = ("state", "team")
    list_select_related = ("team",)
    actions = ["cancel"]

    @admin.display(description="phase")
    def phase(self, job):
        return job.progress.get("phase", "-")

    @admin.display(description="epoch")
    def epoch(self, job):
        return job.progress.get("epoch", "-")

    @admin.display(description="budget left (s)")
    def eta(self, job):
        return job.progress.get("eta_seconds", "-") if job.state == TrainingJob.RUNNING else "-"

    @admin.action(description="Cancel the selected jobs")
    def cancel(self, request, queryset):
        for job in queryset.filter(state__in=TrainingJob.OPEN):
            cancel_job(job)
        self.message_user(request, "cancel requested; a running job stops within seconds")
