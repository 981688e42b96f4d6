"""A release bundle: the flow YAML files of one source revision plus each environment's
substitutions, as one immutable, content-addressed document.

Repository layout (docs/releases.md)::

    DIR/flows/<yamlKey>/<slug>.yaml     one flow per file, placeholders unsubstituted
    DIR/environments/<env>.yaml         an Archy options file; its `substitutions:` apply

The environment files are Archy's own options-file format (`archy publish --optionsFile`), so
the same file works with Archy by hand. Only `substitutions` is read; credentials in such a file
(`clientSecret`, `authToken`, ...) are refused, because the file is committed and reviewed.

The bundle's identity is the sha256 of its canonical JSON (files sorted by path): the same
files give the same bundle, whoever builds it, and promotion replays exactly those bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from flowops.bounded import JSON_LIMITS, load_bounded_json
from flowops.flowyaml import FlowYamlError, SubstitutionSet
from flowops.release.errors import BundleError

BUNDLE_FORMAT = 1
FLOWS_DIR = "flows"
ENVIRONMENTS_DIR = "environments"
YAML_SUFFIXES = (".yaml", ".yml")
MAX_FLOWS = 500
MAX_FLOW_BYTES = 1024 * 1024
"""Architect's own limit on an uploaded flow file is not documented; 1 MiB is ~20x the largest
of the public fixtures and keeps a release bundle well inside one Lambda's memory."""
MAX_ENVIRONMENT_BYTES = 256 * 1024
MAX_BUNDLE_BYTES = 32 * 1024 * 1024
_ENVIRONMENT_NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
_PATH = re.compile(r"^[A-Za-z0-9._ -]+(/[A-Za-z0-9._ -]+)*$")
# Keys of an Archy options file that hold credentials: never in a reviewed repository file.
_CREDENTIAL_KEYS = frozenset({"clientsecret", "authtoken", "clientid", "secret", "password"})


class BundleFlow(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: str
    """Relative to DIR, POSIX separators (e.g. `flows/inboundCall/main-ivr.yaml`)."""
    sha256: str
    text: str = Field(repr=False)


class ReleaseBundle(BaseModel):
    model_config = ConfigDict(frozen=True)

    format: int = BUNDLE_FORMAT
    source_revision: str
    flows: list[BundleFlow]
    environments: dict[str, str] = Field(default_factory=dict, repr=False)
    """Environment name → its options file text."""

    def canonical_bytes(self) -> bytes:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":")).encode()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.canonical_bytes()).hexdigest()

    def substitutions(self, environment: str) -> dict[str, str]:
        """The environment's substitutions (its options file's `substitutions:`)."""
        if environment not in self.environments:
            known = ", ".join(sorted(self.environments)) or "none"
            raise BundleError(
                f"the release has no {ENVIRONMENTS_DIR}/{environment}.yaml (environments: {known}); "
                f"add an Archy options file with `substitutions:` for {environment!r}"
            )
        return parse_options_file(self.environments[environment], f"{ENVIRONMENTS_DIR}/{environment}.yaml")


def parse_options_file(text: str, where: str) -> dict[str, str]:
    """An Archy options file's `substitutions` (other Archy options are allowed and ignored)."""
    # PyYAML on the first options file read: release steps that carry parsed bundles skip it.
    from flowops.flowyaml.loader import load_architect_yaml

    try:
        document = load_architect_yaml(text) if text.strip() else {}
    except Exception as error:  # yaml.YAMLError, RecursionError: one clear line either way
        raise BundleError(f"{where} is not valid YAML: {str(error).splitlines()[0]}") from None
    if document is None:
        document = {}
    if not isinstance(document, Mapping):
        raise BundleError(f"{where} must be an Archy options file (a mapping with `substitutions:`)")
    credentials = sorted(str(key) for key in document if str(key).lower() in _CREDENTIAL_KEYS)
    if credentials:
        raise BundleError(
            f"{where} holds credentials ({', '.join(credentials)}): keep them out of the repository "
            "(flowops reads the Genesys secret from Secrets Manager)"
        )
    substitutions = document.get("substitutions", {})
    if substitutions is None:
        substitutions = {}
    if not isinstance(substitutions, Mapping):
        raise BundleError(f"{where}: `substitutions` must be a mapping of key: value")
    try:
        return SubstitutionSet.from_mapping(substitutions).as_dict()
    except FlowYamlError as error:
        raise BundleError(f"{where}: {error}") from None


def bundle_from_files(files: Mapping[str, bytes], *, source_revision: str | None = None) -> ReleaseBundle:
    """Build the bundle from `{relative path: content}` (every file of the release directory).

    Flow files are the YAML files under `flows/`, environments the YAML files directly under
    `environments/`; anything else is ignored (READMEs, CI files). Bounded: file count and sizes.
    """
    flows: list[BundleFlow] = []
    environments: dict[str, str] = {}
    total = 0
    for raw_path in sorted(files):
        path = raw_path.replace("\\", "/").removeprefix("./")
        if not path.endswith(YAML_SUFFIXES):
            continue
        top, _, rest = path.partition("/")
        if top not in (FLOWS_DIR, ENVIRONMENTS_DIR) or not rest:
            continue
        if not _PATH.match(path) or ".." in path.split("/"):
            raise BundleError(f"{path}: file names may use letters, digits, '.', '_', '-' and spaces only")
        content = files[raw_path]
        limit = MAX_FLOW_BYTES if top == FLOWS_DIR else MAX_ENVIRONMENT_BYTES
        if len(content) > limit:
            raise BundleError(f"{path} is {len(content)} bytes; the limit is {limit}")
        total += len(content)
        if total > MAX_BUNDLE_BYTES:
            raise BundleError(f"the release is larger than {MAX_BUNDLE_BYTES} bytes; split it")
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            raise BundleError(f"{path} is not UTF-8 text") from None
        if top == ENVIRONMENTS_DIR:
            if "/" in rest:
                continue
            name = rest.rsplit(".", 1)[0]
            if not _ENVIRONMENT_NAME.match(name):
                raise BundleError(
                    f"{path}: environment names are lower case letters, digits and '-' (e.g. dev, prod)"
                )
            if name in environments:
                raise BundleError(f"environment {name!r} has two files ({ENVIRONMENTS_DIR}/{name}.yaml/.yml)")
            parse_options_file(text, path)  # refuse a bad file when the bundle is built
            environments[name] = text
            continue
        flows.append(BundleFlow(path=path, sha256=hashlib.sha256(content).hexdigest(), text=text))
    if not flows:
        raise BundleError(f"no flow YAML files under {FLOWS_DIR}/ (one flow per .yaml file)")
    if len(flows) > MAX_FLOWS:
        raise BundleError(f"{len(flows)} flow files; a release holds at most {MAX_FLOWS}")
    content_sha = hashlib.sha256(
        json.dumps([[flow.path, flow.sha256] for flow in flows] + sorted(environments.items())).encode()
    ).hexdigest()
    return ReleaseBundle(
        source_revision=source_revision or f"dir:{content_sha[:12]}",
        flows=flows,
        environments=environments,
    )


def parse_bundle(body: bytes, *, expected_sha256: str | None = None) -> ReleaseBundle:
    """A stored bundle, checked against its content address."""
    if len(body) > MAX_BUNDLE_BYTES * 2:
        raise BundleError("the stored bundle is larger than any bundle flowops writes")
    try:
        document: Any = load_bounded_json(body, JSON_LIMITS, "the stored bundle")
        bundle = ReleaseBundle.model_validate(document)
    except ValueError as error:
        raise BundleError(f"the stored bundle is not a release bundle: {str(error)[:200]}") from None
    if expected_sha256 is not None and bundle.sha256 != expected_sha256:
        raise BundleError(f"the stored bundle's content is not {expected_sha256} (modified after upload?)")
    return bundle


def bundle_key(org: str, sha256: str) -> str:
    """`releases/<org>/bundles/<sha256>.json`: immutable, content-addressed."""
    return f"releases/{org}/bundles/{sha256}.json"


# ---- export file names ---------------------------------------------------------------------------

_SLUG_RUN = re.compile(r"[^a-z0-9]+")


def slug(name: str) -> str:
    """`Main IVR (v2)` → `main-ivr-v2`: lower case ASCII letters and digits joined by '-'."""
    return _SLUG_RUN.sub("-", name.lower()).strip("-")[:80]


def export_path(yaml_key: str, name: str, taken: Mapping[str, str]) -> str:
    """`flows/<yamlKey>/<slug>.yaml`; `taken` maps paths already used to the flow they hold
    (`<yamlKey>/<name>`). Two names with one slug (`Main IVR`, `main-ivr`) or a name without
    letters or digits get `-<first 8 hex of sha256(name)>` appended, so no file holds two flows."""
    base = slug(name)
    identity = f"{yaml_key}/{name}"
    plain = f"{FLOWS_DIR}/{yaml_key}/{base}.yaml"
    if base and taken.get(plain, identity) == identity:
        return plain
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{FLOWS_DIR}/{yaml_key}/{base + '-' if base else ''}{digest}.yaml"
