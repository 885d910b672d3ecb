"""The ETag of a single-document read: the stored document's version, read off its head."""

from __future__ import annotations

import json

import pytest

from services.api.reading import _HEAD, version_of
from shared.domain.models import Epic, Project, Story


@pytest.mark.parametrize(
    "document",
    [
        Project(id="calc", name="Calc", repo_url="file:///srv/calc.git", version=7),
        Story(id="story-1a2b3c4d", project_id="calc", title='a "quoted" title', version=12),
        Epic(id="epic-1a2b3c4d", project_id="calc", title="Math", version=0),
    ],
)
def test_a_stored_document_gives_its_version_from_its_head(
    document: Project | Story | Epic,
) -> None:
    raw = document.model_dump_json()  # as the store writes it
    assert _HEAD.match(raw) is not None  # the cheap path, not the full parse
    assert version_of(raw) == document.version


@pytest.mark.parametrize(
    ("raw", "version"),
    [
        ('{"version":3,"id":"calc"}', 3),  # another field order
        ('{"id":"c\\"x","version":4}', 4),  # an escaped quote in the id
        ('{"id":"calc","nested":{"version":9},"version":5}', 5),  # version not second
        (json.dumps({"id": "calc", "version": 6}, indent=1), 6),  # whitespace
    ],
)
def test_any_other_shape_is_parsed_in_full(raw: str, version: int) -> None:
    assert version_of(raw) == version
