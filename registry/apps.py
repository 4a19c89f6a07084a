from django.apps import AppConfig


class RegistryConfig(AppConfig):
    """Models as data: every team's forecasting models in the database (blob, manifest,
    checksum, backtest figures, state), fine-tuning jobs on the `training` queue, backtested
    promotion, and the per-process cache of loaded models the inference workers read."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "registry"

    def ready(self):
        from django.db.models.signals import post_migrate

        from core import status
        from inference import model_source

        from .defaults import register_shipped_model
        from .serving import LoadedModels
        from .status import PART

        post_migrate.connect(register_shipped_model, sender=self)
        status.register(PART)
        model_source.plug(LoadedModels)  # runs and explanations use each team's active model
