"""Grafana's dashboard provisioning file (generated/grafana/provisioning/dashboards.yaml).

One file provider loads every generated dashboard into the project's folder, with the
settings of `project.grafana` (folder, folder uid, `allowUiUpdates`,
`foldersFromFilesStructure`, path). Grafana reads `options.path` on its own host: mount
or copy `generated/grafana/dashboards/` there (the path is fixed per project so the file
never depends on a checkout).
"""
from __future__ import annotations

from monspec.model import Model
from monspec.render import yamltext
from monspec.render.dashboards import stable_uid
from monspec.spec import SpecSet

DASHBOARDS_PATH = "/var/lib/grafana/dashboards/{name}"


def folder_name(specs: SpecSet) -> str:
    return specs.project.grafana.folder or specs.project.title


def folder_uid(specs: SpecSet) -> str:
    return specs.project.grafana.folder_uid or stable_uid(folder_name(specs))


def render(model: Model) -> dict[str, str]:
    specs = model.specs
    if not specs.dashboards:
        return {}
    project = specs.project
    grafana = project.grafana
    folder = folder_name(specs)
    path = grafana.dashboards_path or DASHBOARDS_PATH.format(name=project.name)
    config = {
        "apiVersion": 1,
        "providers": [{
            "name": project.name, "orgId": 1, "folder": folder, "folderUid": folder_uid(specs), "type": "file",
            "disableDeletion": False, "allowUiUpdates": grafana.allow_ui_updates, "updateIntervalSeconds": 30,
            "options": {"path": path, "foldersFromFilesStructure": grafana.folders_from_files_structure},
        }],
    }
    note = "# Grafana loads the dashboards from options.path: mount or copy generated/grafana/dashboards/ there.\n"
    return {"grafana/provisioning/dashboards.yaml": note + yamltext.emit(config)}
