"""The compiled model: what a spec set means, built once per run and read by lint and every renderer."""
from monspec.model.compiled import Model, build_model

__all__ = ["Model", "build_model"]
