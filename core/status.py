"""GET /status is assembled from parts: core's service fields, then one part per app.

An app adds its part explicitly, in its AppConfig.ready(), with register(). A part is a
serializer that documents its fields (the OpenAPI schema's Status is the union of every
part's serializer, so the schema lists every field the endpoint returns) and a function that
computes them for one request. Parts share expensive reads through StatusRequest.once()."""
from dataclasses import dataclass
from typing import Callable

from rest_framework import serializers


class StatusRequest:
    """One /status request: the caller's team (None without a key) and reads shared by parts."""

    def __init__(self, team):
        self.team = team
        self._memo = {}

    def once(self, name: str, compute: Callable):
        """compute() on first use of `name` in this request, its saved result after."""
        if name not in self._memo:
            self._memo[name] = compute()
        return self._memo[name]


@dataclass(frozen=True)
class StatusPart:
    serializer: type  # a Serializer naming and documenting the part's fields
    fields: Callable[[StatusRequest], dict]


_parts: list = []


def register(part: StatusPart):
    _parts.append(part)


def parts() -> tuple:
    return tuple(_parts)


class ServiceStatus(serializers.Serializer):
    status = serializers.CharField()
    version = serializers.CharField()
    redis_reachable = serializers.BooleanField()


class Status(ServiceStatus):
    """The whole /status body: the service fields and every registered part's fields."""

    def get_fields(self):
        fields = super().get_fields()
        for part in _parts:
            fields.update(part.serializer().get_fields())
        return fields
