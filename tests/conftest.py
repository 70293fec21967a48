"""Shared fixtures: the real project, the mini fixture project, and graphs loaded once."""

from __future__ import annotations

from pathlib import Path

import pytest

from neuromech.build import KnowledgeGraph, open_graph
from neuromech.paths import ProjectPaths

ROOT = Path(__file__).resolve().parents[1]
MINI_DATA = ROOT / "tests" / "fixtures" / "mini"
SEEDS = ROOT.parent / "shared" / "seeds"
EXTERNAL = ROOT.parent / "shared" / "external"


@pytest.fixture(scope="session")
def repo() -> ProjectPaths:
    """The real project checkout."""
    return ProjectPaths(ROOT)


@pytest.fixture(scope="session")
def mini() -> ProjectPaths:
    """The project's ontology, shapes, rules and queries over the small hand-made fixture data."""
    return ProjectPaths(ROOT, data=MINI_DATA)


@pytest.fixture(scope="session")
def real_kg(repo: ProjectPaths) -> KnowledgeGraph:
    """The real graph, loaded and materialised once per session."""
    return open_graph(repo)


@pytest.fixture(scope="session")
def mini_kg(mini: ProjectPaths) -> KnowledgeGraph:
    """The fixture graph, loaded and materialised once per session."""
    return open_graph(mini)


@pytest.fixture(scope="session")
def site_dir(repo: ProjectPaths, real_kg: KnowledgeGraph, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The static site built once per session from the real graph (``neuromech site``)."""
    from neuromech.site import build_site

    return build_site(repo, tmp_path_factory.mktemp("site") / "site", kg=real_kg).target
