"""The OAuth permissions every Genesys operation flowops performs needs: ONE table.

Source: the "Requires ANY/ALL permissions" line of each operation in the official SDK's API docs
(platform-client-sdk-python `build/docs/ArchitectApi.md`, `IntegrationsApi.md`, `DownloadsApi.md`).
Everything that talks about permissions reads this table: the fallback when a 403 body does not
name the permission (`errors.find_missing_permission`), `flowops doctor` (one probe per
permission), and the OAuth role in docs/deploy.md (`role_permissions()`, checked by a test).

`optional` operations are checks flowops can skip with a warning when the permission is
missing (the run still does its job, less thoroughly); every other operation fails its step with
the exact permission named. `grant` is the permission the flowops role grants where the SDK
accepts any of several (e.g. publish accepts `architect:flow:unlock` OR `architect:flow:publish`;
the role grants the narrower `architect:flow:publish`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict

Pipeline = Literal["scan", "publish", "rollback", "trace", "doctor"]


class OperationPermissions(BaseModel):
    """What one API operation needs, and who in flowops calls it."""

    model_config = ConfigDict(frozen=True)

    operation: str  # "METHOD /api/v2/path/{template}"
    sdk_method: str  # the SDK's method name (ArchitectApi / IntegrationsApi / DownloadsApi)
    requires: Literal["any", "all", "none"]
    permissions: tuple[str, ...]
    grant: tuple[str, ...]  # what the flowops role grants for this operation
    used_by: tuple[Pipeline, ...]  # empty: a client method no pipeline calls (not in the role)
    purpose: str
    optional: bool = False  # flowops degrades to a warning when this is refused
    verified: bool = True  # False: not in the SDK docs we checked (preview API)

    def describe(self) -> str:
        """`architect:flow:view`, or `any of a, b` when the SDK accepts several."""
        if len(self.permissions) == 1:
            return self.permissions[0]
        joiner = " or " if self.requires == "any" else " and "
        return joiner.join(self.permissions)


def _op(
    operation: str,
    sdk_method: str,
    requires: Literal["any", "all", "none"],
    permissions: Iterable[str],
    used_by: Iterable[Pipeline],
    purpose: str,
    *,
    grant: Iterable[str] | None = None,
    optional: bool = False,
    verified: bool = True,
) -> OperationPermissions:
    listed = tuple(permissions)
    return OperationPermissions(
        operation=operation,
        sdk_method=sdk_method,
        requires=requires,
        permissions=listed,
        grant=tuple(grant) if grant is not None else listed[:1] if requires == "any" else listed,
        used_by=tuple(used_by),
        purpose=purpose,
        optional=optional,
        verified=verified,
    )


_FLOW_VIEW = ("architect:flow:view",)
_DEPENDENCY_VIEW = ("architect:dependencyTracking:view",)
_ACTION_VIEW = ("integrations:action:view", "bridge:actions:view")

OPERATIONS: tuple[OperationPermissions, ...] = (
    # ---- flows (ArchitectApi) -------------------------------------------------------------------
    _op("GET /api/v2/flows", "get_flows", "any", _FLOW_VIEW, ("scan", "publish", "doctor"), "list flows"),
    _op("GET /api/v2/flows/{flowId}", "get_flow", "any", _FLOW_VIEW, ("publish", "rollback"), "read a flow"),
    _op(
        "GET /api/v2/flows/{flowId}/versions",
        "get_flow_versions",
        "any",
        _FLOW_VIEW,
        (),
        "list a flow's versions",
    ),
    _op(
        "GET /api/v2/flows/{flowId}/versions/{versionId}",
        "get_flow_version",
        "any",
        _FLOW_VIEW,
        ("publish",),
        "read a flow version",
    ),
    _op(
        "GET /api/v2/flows/{flowId}/versions/{versionId}/configuration",
        "get_flow_version_configuration",
        "any",
        _FLOW_VIEW,
        (),
        "read a version's flow document",
    ),
    _op(
        "GET /api/v2/flows/{flowId}/latestconfiguration",
        "get_flow_latestconfiguration",
        "any",
        _FLOW_VIEW,
        (),
        "read the latest flow document",
    ),
    _op(
        "POST /api/v2/flows/actions/publish",
        "post_flows_actions_publish",
        "any",
        ("architect:flow:unlock", "architect:flow:publish"),
        ("publish",),
        "publish an existing version",
        grant=("architect:flow:publish",),
    ),
    _op(
        "POST /api/v2/flows/actions/checkin",
        "post_flows_actions_checkin",
        "any",
        ("architect:flow:edit", "architect:flow:unlock"),
        (),
        "check a flow in",
    ),
    _op(
        "POST /api/v2/flows/actions/checkout",
        "post_flows_actions_checkout",
        "any",
        ("architect:flow:edit",),
        (),
        "check a flow out",
    ),
    _op(
        "POST /api/v2/flows/actions/revert",
        "post_flows_actions_revert",
        "any",
        ("architect:flow:edit",),
        (),
        "revert a checked-out flow",
    ),
    _op(
        "POST /api/v2/flows/actions/unlock",
        "post_flows_actions_unlock",
        "any",
        ("architect:flow:unlock",),
        ("publish",),
        "force-unlock a flow someone else holds (publish with force_unlock)",
    ),
    _op(
        "DELETE /api/v2/flows/{flowId}",
        "delete_flow",
        "any",
        ("architect:flow:delete",),
        (),
        "delete a flow (releases; no pipeline calls it yet)",
    ),
    _op(
        "POST /api/v2/flows/jobs",
        "post_flows_jobs",
        "all",
        ("architect:job:create",),
        ("publish", "rollback"),
        "deploy flow YAML (publish, rollback)",
    ),
    _op(
        "GET /api/v2/flows/jobs/{jobId}",
        "get_flows_job",
        "all",
        ("architect:job:view",),
        ("publish", "rollback", "doctor"),
        "follow a deploy job",
    ),
    _op(
        "POST /api/v2/flows/export/jobs",
        "post_flows_export_jobs",
        "all",
        ("architect:jobExport:create",),
        ("publish",),
        "export the published version's YAML (the rollback snapshot)",
    ),
    _op(
        "GET /api/v2/flows/export/jobs/{jobId}",
        "get_flows_export_job",
        "all",
        ("architect:jobExport:view",),
        ("publish", "doctor"),
        "follow an export job",
    ),
    _op(
        "GET /api/v2/downloads/{downloadId}",
        "get_download",
        "none",
        (),
        ("publish",),
        "download an export (redirects to a signed URL)",
    ),
    _op(
        "POST /api/v2/flows/validate/jobs",
        "post_flows_validate_jobs",
        "all",
        ("architect:jobValidate:create",),
        ("publish",),
        "Genesys' own validation of a stored version (preview API)",
        optional=True,
        verified=False,
    ),
    _op(
        "GET /api/v2/flows/validate/jobs/{jobId}",
        "get_flows_validate_job",
        "all",
        ("architect:jobValidate:view",),
        ("publish", "doctor"),
        "follow a validate job (preview API)",
        optional=True,
        verified=False,
    ),
    # ---- dependency tracking (ArchitectApi) -----------------------------------------------------
    _op(
        "GET /api/v2/architect/dependencytracking/build",
        "get_architect_dependencytracking_build",
        "all",
        _DEPENDENCY_VIEW,
        ("scan", "doctor"),
        "read the dependency index status",
    ),
    _op(
        "POST /api/v2/architect/dependencytracking/build",
        "post_architect_dependencytracking_build",
        "all",
        ("architect:dependencyTracking:rebuild",),
        ("scan",),
        "rebuild the dependency index when it is not built",
        optional=True,
    ),
    _op(
        "GET /api/v2/architect/dependencytracking/consumedresources",
        "get_architect_dependencytracking_consumedresources",
        "all",
        _DEPENDENCY_VIEW,
        ("scan", "publish"),
        "what a flow version uses",
    ),
    _op(
        "GET /api/v2/architect/dependencytracking/consumingresources",
        "get_architect_dependencytracking_consumingresources",
        "all",
        _DEPENDENCY_VIEW,
        (),
        "who uses an object",
    ),
    _op(
        "GET /api/v2/architect/dependencytracking/object",
        "get_architect_dependencytracking_object",
        "all",
        _DEPENDENCY_VIEW,
        (),
        "read one dependency object",
    ),
    # ---- execution data (ArchitectApi) ----------------------------------------------------------
    _op(
        "GET /api/v2/flows/instances/settings/executiondata",
        "get_flows_instances_settings_executiondata",
        "any",
        ("architect:flowinstanceexecutiondata:view",),
        ("trace", "doctor"),
        "whether execution data is stored",
    ),
    _op(
        "POST /api/v2/flows/instances/query",
        "post_flows_instances_query",
        "any",
        ("architect:flowInstance:search",),
        ("trace", "publish", "doctor"),
        "find flow runs (trace; the publish health check's error rate)",
    ),
    _op(
        "POST /api/v2/flows/instances/jobs",
        "post_flows_instances_jobs",
        "any",
        ("architect:flowInstance:view",),
        ("trace",),
        "request execution data documents",
    ),
    _op(
        "GET /api/v2/flows/instances/jobs/{jobId}",
        "get_flows_instances_job",
        "any",
        ("architect:flowInstance:view",),
        ("trace", "doctor"),
        "follow an execution data job",
    ),
    # ---- data actions (IntegrationsApi) ---------------------------------------------------------
    _op(
        "GET /api/v2/integrations/actions",
        "get_integrations_actions",
        "any",
        _ACTION_VIEW,
        ("scan", "doctor"),
        "list data actions",
    ),
    _op(
        "GET /api/v2/integrations/actions/{actionId}",
        "get_integrations_action",
        "any",
        _ACTION_VIEW,
        ("publish",),
        "read a data action a flow uses",
    ),
    _op(
        "GET /api/v2/integrations/actions/{actionId}/draft/validation",
        "get_integrations_action_draft_validation",
        "any",
        ("integrations:action:edit",),
        ("publish",),
        "check that a used data action's draft validates (skipped with a warning without it)",
        optional=True,
    ),
)

BY_OPERATION: Mapping[str, OperationPermissions] = {entry.operation: entry for entry in OPERATIONS}


def permissions_for(operation: str) -> OperationPermissions | None:
    return BY_OPERATION.get(operation)


def role_permissions(*, include_optional: bool = True) -> tuple[str, ...]:
    """The permissions of the OAuth role flowops needs (sorted, each once)."""
    granted = {
        permission
        for entry in OPERATIONS
        if entry.used_by and (include_optional or not entry.optional)
        for permission in entry.grant
    }
    return tuple(sorted(granted, key=str.lower))


def operations_needing(permission: str) -> tuple[OperationPermissions, ...]:
    return tuple(entry for entry in OPERATIONS if permission in entry.permissions)


__all__ = [
    "BY_OPERATION",
    "OPERATIONS",
    "OperationPermissions",
    "Pipeline",
    "operations_needing",
    "permissions_for",
    "role_permissions",
]
