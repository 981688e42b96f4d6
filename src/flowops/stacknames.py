"""Names shared by the CDK app (infra/), the local cloud and the CLI: one place, no string copies.

Here rather than in infra/ because the CLI and the local cloud ship in the wheel and infra/ does
not (infra/constants.py re-exports these names next to the checkout's paths).
"""

from __future__ import annotations

from flowops.scan.shape import PAGE_READERS

# cdk.json context keys
CONTEXT_ENVIRONMENTS = "flowops:environments"
CONTEXT_LAYER_MODE = "flowops:layer"
CONTEXT_ONLY_ENVIRONMENT = "flowops:environment"
"""Synthesize only this environment (e.g. `cdk synth -c flowops:environment=dev`)."""

LAYER_MODE_BUNDLED = "bundled"
LAYER_MODE_SOURCE_ONLY = "source-only"

STACK_NAME_PREFIX = "Flowops"

# Environment variables every function receives (read through flowops.config at the edge)
ENV_GENESYS_REGION = "GENESYS_REGION"
ENV_GENESYS_BASE_URL = "GENESYS_BASE_URL"
ENV_GENESYS_SECRET_ID = "GENESYS_SECRET_ID"  # noqa: S105 - a variable name, not a secret
ENV_FLOWOPS_ORG = "FLOWOPS_ORG"
ENV_FLOWOPS_ENVIRONMENT = "FLOWOPS_ENVIRONMENT"
ENV_ARTIFACTS_BUCKET = "ARTIFACTS_BUCKET"
ENV_STATE_TABLE = "STATE_TABLE"
ENV_AUDIT_TABLE = "AUDIT_TABLE"
ENV_POWERTOOLS_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
ENV_POWERTOOLS_METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"
ENV_POWERTOOLS_LOG_LEVEL = "POWERTOOLS_LOG_LEVEL"
# ... and every function that calls Genesys (flowops.config.GenesysSettings, docs/genesys-limits.md)
ENV_GENESYS_RATE_SCOPE = "GENESYS_RATE_SCOPE"
ENV_GENESYS_RATE_PER_MINUTE = "GENESYS_RATE_PER_MINUTE"
# cdk.json `genesysRateLimit` of an environment (flowops.config.GenesysRateLimit)
CONTEXT_GENESYS_RATE_LIMIT = "genesysRateLimit"

POWERTOOLS_SERVICE_NAME = "flowops"
POWERTOOLS_METRICS_NAMESPACE = "Flowops"

# Logical ids of stack outputs (the CLI reads them from a deployed stack)
OUTPUT_ARTIFACTS_BUCKET = "ArtifactsBucketName"
OUTPUT_STATE_TABLE = "StateTableName"
OUTPUT_AUDIT_TABLE = "AuditTableName"
OUTPUT_GENESYS_SECRET = "GenesysSecretName"  # noqa: S105 - an output id, not a secret

# Construct ids (their logical ids start with these; the local runtime looks resources up by them)
STORAGE_CONSTRUCT_ID = "Storage"
FUNCTIONS_CONSTRUCT_ID = "Functions"
ARTIFACTS_BUCKET_ID = "ArtifactsBucket"
ACCESS_LOGS_BUCKET_ID = "AccessLogsBucket"
STATE_TABLE_ID = "StateTable"
AUDIT_TABLE_ID = "AuditTable"
CORE_LAYER_ID = "CoreLayer"

# DynamoDB key schema (flowops.store writes these attribute names)
PARTITION_KEY = "pk"
SORT_KEY = "sk"
AUDIT_TTL_ATTRIBUTE = "expires_at"

# Runtime packages the layer ships. boto3/botocore are left out on purpose: the Lambda Python
# runtime provides them, and shipping a second copy adds ~80 MB to every cold start.
LAYER_EXCLUDED_PACKAGES = frozenset({"boto3", "botocore"})


# The input the EventBridge schedule rule sends to the scan state machine (the demo sends it too).
SCHEDULED_SCAN_INPUT: dict[str, object] = {"trigger": "schedule", "full": False}

# Pages the scan's Map reads at once: the planner balances its pages for this many readers.
MAP_MAX_CONCURRENCY = PAGE_READERS
