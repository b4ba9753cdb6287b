"""The spec layer, bottom up: `base` (units, durations, located entities) ← `dashboards`,
`routing` ← `models` (one spec file) ← `specset` (the folder, merged). This face only re-exports."""
from monspec.spec.specset import SpecSet, load_specs, spec_files

__all__ = ["SpecSet", "load_specs", "spec_files"]
