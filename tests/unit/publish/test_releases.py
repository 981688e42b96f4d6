"""The known-good release history and the content fingerprint (flowops.publish.releases/content)."""

from __future__ import annotations

import pytest

from flowops.publish.content import UnreadableContentError, content_fingerprint
from flowops.publish.releases import ReleaseEntry, ReleaseHistory, restored_release

YAML = """inboundCall:
  name: Main IVR
  description: "spring release"
  startUpRef: /inboundCall/tasks/task[main]
  tasks:
  - task:
      name: Main
      refId: main
      actions:
      - transferToAcd:
          name: To queue
          targetQueue:
            lit:
              name: Support
      - disconnect:
          name: Bye
"""


def entry(version: str, *, restores: str | None = None) -> ReleaseEntry:
    return ReleaseEntry(
        version=version,
        yaml_key=f"flows/dev/f/{version}.yaml",
        fingerprint=version,
        run_id="r",
        restores=restores,
    )


def test_a_restore_withdraws_the_releases_after_its_target_and_known_good_skips_them() -> None:
    # Given releases 2.0 (baseline), 3.0 and 4.0
    history = ReleaseHistory(flow_id="f")
    for version in ("2.0", "3.0", "4.0"):
        history = history.with_entry(entry(version))
    assert history.known_good() == entry("4.0")
    # When 5.0 restores 3.0 (a rollback)
    history = history.with_entry(entry("5.0", restores="3.0"))
    # Then 4.0 is withdrawn, 3.0 and the restore stand, and the restore is the known-good release
    states = {item.version: item.withdrawn for item in history.entries}
    assert states == {"2.0": False, "3.0": False, "4.0": True, "5.0": False}
    known = history.known_good()
    assert known is not None and known.version == "5.0" and known.content_of == "3.0"


def test_recording_the_same_release_twice_is_one_entry_and_versions_sort_numerically() -> None:
    # Given a retried record step and versions past 9
    history = ReleaseHistory(flow_id="f")
    for version in ("9.0", "10.0", "10.0"):
        history = history.with_entry(entry(version))
    # Then one entry per version, in version order
    assert [item.version for item in history.entries] == ["9.0", "10.0"]


def test_a_publish_of_a_stored_release_yaml_is_a_restore_of_that_release() -> None:
    assert restored_release("dev", "f-main", "flows/dev/f-main/3.0.yaml") == "3.0"
    assert restored_release("dev", "f-main", "flows/dev/other/3.0.yaml") is None
    assert restored_release("dev", "f-main", "uploads/flow.yaml") is None
    assert restored_release("dev", "f-main", None) is None


def test_the_fingerprint_ignores_layout_but_not_what_a_release_is_about() -> None:
    # Given the same flow laid out differently (indentation, key order), as an export may be
    reordered = YAML.replace('  description: "spring release"\n', "").replace(
        "  name: Main IVR\n", '  description: "spring release"\n  name: Main IVR\n'
    )
    assert content_fingerprint(reordered) == content_fingerprint(YAML)
    # Then another description (the release note) or another queue is other content
    assert content_fingerprint(YAML.replace("spring release", "summer release")) != content_fingerprint(YAML)
    assert content_fingerprint(YAML.replace("name: Support", "name: Sales")) != content_fingerprint(YAML)


def test_unreadable_yaml_has_no_fingerprint() -> None:
    with pytest.raises(UnreadableContentError):
        content_fingerprint("inboundCall: [unclosed")
