"""The team's models: list, fine-tune (a job on the trainer), follow or cancel a job, activate
(promote a candidate, roll back to an older model or the global default). Every lookup is by
the key's team: another team's model or job is a 404."""
import math

from django.conf import settings
from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.openapi import COMMON_ERRORS, Detail
from core.params import reject_unknown
from core.throttles import KeyRateThrottle

from . import openapi
from .jobs import BrokerUnavailable, JobConflict, NotEnoughHistory, cancel_job, job_document, reap_stale_jobs, start_job
from .models import ForecastModel, TrainingJob
from .promotion import CannotActivate, activate, active_for

LISTED = 50  # the team's newest models in GET /models
DEFAULT_MINUTES, DEFAULT_DAYS = 10, 14


def model_document(model: ForecastModel) -> dict:
    return {"version": model.version, "team": model.team.slug if model.team_id else None, "state": model.state,
            "created": model.created, "activated": model.activated, "figures": model.figures,
            "reason": model.reason, "description": model.description, "size_bytes": model.size_bytes}


def team_models(team):
    return ForecastModel.objects.defer("blob").select_related("team").filter(Q(team=team) | Q(team=None))


class ModelsView(APIView):
    rate_scope = "read"
    throttle_classes = [KeyRateThrottle]

    @extend_schema(summary="The team's models and the global default, newest first; which one is active",
                   responses={200: openapi.ModelsDocument, **COMMON_ERRORS})
    def get(self, request):
        reject_unknown(request.query_params, ())
        team = request.auth.team
        models = list(team_models(team).filter(team=team)[:LISTED])
        models += list(team_models(team).filter(team=None, state=ForecastModel.ACTIVE))
        active = active_for(team)
        return Response({"active": active.version if active else None,
                         "models": [model_document(m) for m in models]})


def bounded_number(body, name, default, low, high, integer=False):
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
        raise ValueError(f"{name}: must be {'an integer' if integer else 'a number'}")
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError(f"{name}: must be between {low:g} and {high:g}, not {value!r}")
    return value


class TrainView(APIView):
    rate_scope = "admin"
    throttle_classes = [KeyRateThrottle]

    @extend_schema(
        summary="Fine-tune the team's active model on the team's own history (a job on the trainer)",
        description="202 with the job's id; 409 while the team has a queued or running job; 422 when the "
        "team has too little history (the message says how much it has and needs). When the job ends, the "
        "candidate is backtested against the active model on the held-out days and activated only if better.",
        request=openapi.TrainingRequest,
        responses={202: openapi.TrainingJobStarted, 400: Detail, 409: openapi.TrainingJobConflict, 422: Detail, **COMMON_ERRORS})
    def post(self, request):
        body = request.data if isinstance(request.data, dict) else None
        if body is None or set(body) - {"max_minutes", "days"}:
            return Response({"detail": "body: a JSON object with max_minutes and days only"}, status=400)
        try:
            minutes = bounded_number(body, "max_minutes", DEFAULT_MINUTES, 0.05, settings.ARGUS_TRAIN_MAX_MINUTES)
            days = bounded_number(body, "days", DEFAULT_DAYS, 1, settings.ARGUS_HISTORY_DAYS, integer=True)
        except ValueError as e:
            return Response({"detail": str(e)}, status=400)
        try:
            job = start_job(request.auth.team, float(minutes), days, requested_by=f"key {request.auth.prefix}")
        except JobConflict as e:
            return Response({"detail": str(e), "job": e.job.pk if e.job else None}, status=409)
        except NotEnoughHistory as e:
            return Response({"detail": str(e)}, status=422)
        except BrokerUnavailable:
            return Response({"detail": "The training queue is unavailable; try again shortly"}, status=503,
                            headers={"Retry-After": "30"})
        return Response({"job": job.pk}, status=202)


class JobView(APIView):
    throttle_classes = [KeyRateThrottle]

    @property
    def rate_scope(self):
        return "admin" if self.request.method == "DELETE" else "read"

    def job(self, request, job_id):
        reap_stale_jobs(request.auth.team)  # a job whose trainer died reads as failed, not running forever
        return TrainingJob.objects.select_related("model").filter(pk=job_id, team=request.auth.team).first()

    @extend_schema(summary="A training job: state, progress, log", responses={200: openapi.TrainingJobDocument, 404: Detail, **COMMON_ERRORS})
    def get(self, request, job_id):
        job = self.job(request, job_id)
        if job is None:
            return Response({"detail": f"No job {job_id} for this team"}, status=404)
        return Response(job_document(job))

    @extend_schema(summary="Cancel a training job (a running one stops within seconds; nothing is activated)",
                   responses={200: openapi.TrainingJobDocument, 404: Detail, **COMMON_ERRORS})
    def delete(self, request, job_id):
        job = self.job(request, job_id)
        if job is None:
            return Response({"detail": f"No job {job_id} for this team"}, status=404)
        cancel_job(job)
        return Response(job_document(self.job(request, job_id)))


class ActivateView(APIView):
    rate_scope = "admin"
    throttle_classes = [KeyRateThrottle]

    @extend_schema(
        summary="Make a model the team's active one: promote a candidate, roll back to an older model or the global default",
        request=None, responses={200: openapi.ModelActivated, 404: Detail, 409: Detail, **COMMON_ERRORS})
    def post(self, request, version):
        team = request.auth.team
        model = team_models(team).filter(version=version).first()
        if model is None:
            return Response({"detail": f"No model {version!r} for this team"}, status=404)
        try:
            activate(team, model)
        except CannotActivate as e:
            return Response({"detail": str(e)}, status=409)
        return Response({"active": active_for(team).version})
