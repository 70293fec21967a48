"""Every canonical path of a NeuroMech checkout, named once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from neuromech.errors import UsageError

_MARKER = Path("ontology") / "neuromech.ttl"


@dataclass(frozen=True)
class ProjectPaths:
    """The files and folders of one project checkout rooted at ``root``.

    ``data`` replaces the checkout's ``data/`` folder (e.g. with a test fixture) and ``dist``
    the output folder.
    """

    root: Path
    data: Path | None = None
    dist: Path | None = None

    @property
    def ontology_dir(self) -> Path:
        """Folder of the TBox, the rules and the committed import modules."""
        return self.root / "ontology"

    @property
    def ontology(self) -> Path:
        """The hand-written TBox."""
        return self.ontology_dir / "neuromech.ttl"

    @property
    def imports_dir(self) -> Path:
        """Committed, generated import modules of external ontologies."""
        return self.ontology_dir / "imports"

    @property
    def rules_dir(self) -> Path:
        """SPARQL CONSTRUCT rules that materialise derived edges."""
        return self.ontology_dir / "rules"

    @property
    def data_dir(self) -> Path:
        """Curated entities and findings."""
        return self.data if self.data is not None else self.root / "data"

    @property
    def mappings_file(self) -> Path:
        """The SSSOM mapping set: every link from an entity to an external ontology class."""
        return self.data_dir / "mappings" / "neuromech.sssom.tsv"

    @property
    def external_dir(self) -> Path:
        """The offline copies of the external ontologies, beside the checkout."""
        return self.root.parent / "shared" / "external"

    @property
    def shapes_dir(self) -> Path:
        """SHACL shapes."""
        return self.root / "shapes"

    @property
    def queries_dir(self) -> Path:
        """Stored SPARQL queries."""
        return self.root / "queries"

    @property
    def dist_dir(self) -> Path:
        """Generated artifacts (git-ignored)."""
        return self.dist if self.dist is not None else self.root / "dist"

    @property
    def site_dir(self) -> Path:
        """The static site built by ``neuromech site``."""
        return self.dist_dir / "site"

    @property
    def node_modules_dir(self) -> Path:
        """JavaScript libraries installed by ``npm ci`` (bundled into the site)."""
        return self.root / "node_modules"

    @property
    def seeds_dir(self) -> Path:
        """The plain-text source reviews, beside the checkout (not needed at run time)."""
        return self.root.parent / "shared" / "seeds"

    def data_files(self) -> list[Path]:
        """All curated Turtle files under ``data/``, sorted."""
        return sorted(self.data_dir.rglob("*.ttl"))

    def ontology_files(self) -> list[Path]:
        """Return the TBox followed by the import modules, sorted."""
        return [self.ontology, *sorted(self.imports_dir.glob("*.ttl"))]

    def shape_files(self) -> list[Path]:
        """All SHACL shape files, sorted."""
        return sorted(self.shapes_dir.glob("*.ttl"))


def find_root(start: Path | None = None) -> Path:
    """Locate the project root.

    Args:
        start: folder to search upwards from; defaults to the working directory.

    Returns:
        ``$NEUROMECH_ROOT`` if set, else the nearest folder at or above ``start`` holding
        ``ontology/neuromech.ttl``, else the checkout this package was installed from.

    Raises:
        UsageError: when no project root can be found.
    """
    env = os.environ.get("NEUROMECH_ROOT")
    if env:
        root = Path(env).resolve()
        if not (root / _MARKER).is_file():
            raise UsageError(f"NEUROMECH_ROOT={env} does not contain {_MARKER}")
        return root
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / _MARKER).is_file():
            return folder
    package_checkout = Path(__file__).resolve().parents[2]
    if (package_checkout / _MARKER).is_file():
        return package_checkout
    raise UsageError(
        f"no NeuroMech project found at or above {here} (looked for {_MARKER}); "
        "run inside a checkout or set NEUROMECH_ROOT"
    )


def project(root: Path | None = None) -> ProjectPaths:
    """Return the paths of the project at ``root`` (or the one :func:`find_root` finds)."""
    return ProjectPaths(root.resolve() if root else find_root())
