"""What a flow version contains, compared across a deploy and an export.

Architect regenerates the YAML it exports (layout, key order, defaults it fills in), so the
bytes of an export never prove what was deployed. The fingerprint covers what a release is
about and what the export keeps: the flow's type and name, its description (where releases
carry their note), and every object it references by name. Two versions with the same
fingerprint run the same release as far as flowops can tell from the outside.
"""

from __future__ import annotations

import hashlib
import json


class UnreadableContentError(ValueError):
    """The YAML could not be read, so its content cannot be compared."""


def content_fingerprint(yaml_text: str) -> str:
    """sha256 (hex) of the flow's type, name, description and referenced objects."""
    # Imported here: the YAML parser's models cost the cold start of every publish step that
    # imports this module but never compares content (`python -m bench.cold_start`).
    from flowops.flowyaml import FlowYamlError, parse_flow_yaml

    try:
        document = parse_flow_yaml(yaml_text)
    except FlowYamlError as error:
        raise UnreadableContentError(f"the flow YAML cannot be read: {error}") from error
    summary = {
        "type": document.yaml_key,
        "name": document.name.strip(),
        "description": (document.description or "").strip(),
        "references": sorted({"|".join(reference.identity) for reference in document.references}),
    }
    return hashlib.sha256(json.dumps(summary, sort_keys=True).encode("utf-8")).hexdigest()
