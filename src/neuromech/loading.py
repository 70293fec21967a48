"""Parse the Turtle sources of a project into one graph, reporting syntax errors by file and line."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph
from rdflib.plugins.parsers.notation3 import BadSyntax

from neuromech.errors import SourceSyntaxError
from neuromech.mapping_set import mapping_graph, read_mapping_set
from neuromech.namespaces import bind_prefixes
from neuromech.paths import ProjectPaths


@dataclass
class SourceGraph:
    """A merged graph plus, for every subject, the source file that describes it."""

    graph: Graph
    subject_files: dict[str, Path] = field(default_factory=dict)

    def file_of(self, node: object) -> Path | None:
        """Return the file that first describes ``node`` as a subject, if any."""
        return self.subject_files.get(str(node))


def parse_turtle(path: Path) -> Graph:
    """Parse one Turtle file.

    Raises:
        SourceSyntaxError: naming the file, the line and the reason when the file is not
            valid Turtle (or cannot be read).
    """
    graph = bind_prefixes(Graph())
    try:
        graph.parse(path, format="turtle")
    except BadSyntax as err:
        line = getattr(err, "lines", 0) + 1
        why = getattr(err, "_why", str(err))
        raise SourceSyntaxError(f"{path}:{line}: invalid Turtle: {why}") from err
    except (OSError, UnicodeDecodeError) as err:
        raise SourceSyntaxError(f"{path}: cannot read: {err}") from err
    except Exception as err:  # rdflib raises plain exceptions for some term errors
        raise SourceSyntaxError(f"{path}: invalid Turtle: {err}") from err
    return graph


def load_files(paths: Iterable[Path]) -> SourceGraph:
    """Parse ``paths`` and merge them, remembering which file describes which subject.

    Every file is parsed even if an earlier one fails, so all syntax errors are reported at once.

    Raises:
        SourceSyntaxError: listing every file that failed to parse.
    """
    merged = SourceGraph(bind_prefixes(Graph()))
    errors: list[str] = []
    for path in paths:
        try:
            part = parse_turtle(path)
        except SourceSyntaxError as err:
            errors.append(str(err))
            continue
        for subject in set(part.subjects()):
            merged.subject_files.setdefault(str(subject), path)
        merged.graph += part
    if errors:
        raise SourceSyntaxError("\n".join(errors))
    return merged


def load_project(paths: ProjectPaths, extra_data: Iterable[Path] = ()) -> SourceGraph:
    """Load the ontology, its import modules, all curated data and the SSSOM mappings (as SKOS triples)."""
    source = load_files([*paths.ontology_files(), *paths.data_files(), *extra_data])
    source.graph += mapping_graph(read_mapping_set(paths.mappings_file), paths.mappings_file)
    return source


def load_shapes(paths: ProjectPaths) -> Graph:
    """Load the SHACL shapes of a project."""
    return load_files(paths.shape_files()).graph
