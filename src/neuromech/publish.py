"""Load a build (``dist/``) into any SPARQL 1.1 store through the Graph Store Protocol.

The build's ``neuromech.ttl`` holds asserted plus inferred triples and ``inferred.ttl`` only the
inferred ones; they are split into two named graphs: asserted triples (default
``nm:graph/asserted``) and materialised ones (``nm:graph/inferred``). Each graph is replaced
with one GSP ``PUT``, so publishing twice leaves the store as publishing once.
Parsing uses pyoxigraph (10^6 triples in seconds).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from neuromech.errors import UsageError
from neuromech.namespaces import INFERRED_GRAPH
from neuromech.remote_store import ASSERTED_GRAPH, RemoteStore


@dataclass(frozen=True)
class BuildGraphs:
    """The triples of a build, split into asserted and inferred, as N-Triples."""

    asserted: bytes
    inferred: bytes
    asserted_count: int
    inferred_count: int


def read_build(dist_dir: Path) -> BuildGraphs:
    """Read ``dist_dir/neuromech.ttl`` and ``dist_dir/inferred.ttl`` and split them.

    Raises:
        UsageError: when the build is missing (run ``neuromech build`` first).
    """
    full_path, inferred_path = dist_dir / "neuromech.ttl", dist_dir / "inferred.ttl"
    for path in (full_path, inferred_path):
        if not path.is_file():
            raise UsageError(f"no build found: {path} is missing; run `neuromech build` first")
    inferred = set(ox.parse(path=inferred_path, format=ox.RdfFormat.TURTLE))
    asserted = [t for t in ox.parse(path=full_path, format=ox.RdfFormat.TURTLE) if t not in inferred]
    nt = ox.RdfFormat.N_TRIPLES
    return BuildGraphs(
        asserted=ox.serialize(asserted, format=nt) or b"",
        inferred=ox.serialize(sorted(inferred, key=str), format=nt) or b"",
        asserted_count=len(asserted),
        inferred_count=len(inferred),
    )


def build_nquads(graphs: BuildGraphs, graph: str = str(ASSERTED_GRAPH), inferred: str = str(INFERRED_GRAPH)) -> bytes:
    """Return the build as N-Quads: asserted triples in ``graph``, inferred ones in ``inferred``."""
    parts = []
    for data, name in ((graphs.asserted, graph), (graphs.inferred, inferred)):
        quads = (
            ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(name))
            for t in ox.parse(data, ox.RdfFormat.N_TRIPLES)
        )
        parts.append(ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b"")
    return b"".join(parts)


@dataclass(frozen=True)
class PublishReport:
    """What was loaded where."""

    endpoint: str
    graphs: dict[str, int]


def publish(
    dist_dir: Path,
    endpoint: str,
    *,
    graph: str = str(ASSERTED_GRAPH),
    inferred: str = str(INFERRED_GRAPH),
    user: str | None = None,
    password: str | None = None,
    timeout: float = 300.0,
) -> PublishReport:
    """Replace two named graphs of the store at ``endpoint`` (a GSP URL) with the build.

    Args:
        dist_dir: the build folder.
        endpoint: the store's Graph Store Protocol URL (Oxigraph: ``http://HOST:PORT/store``;
            Fuseki: ``http://HOST:3030/DATASET/data``; GraphDB:
            ``http://HOST:7200/repositories/REPO/rdf-graphs/service``; Virtuoso:
            ``http://HOST:8890/sparql-graph-crud-auth``).
        graph: named graph for the asserted triples.
        inferred: named graph for the inferred triples.
        user: HTTP basic-auth user, if the store needs one.
        password: its password.
        timeout: seconds allowed to each upload.

    Raises:
        UsageError: the build is missing or ``graph`` is not an absolute IRI.
        EndpointUnavailable: the store cannot be reached or refuses the upload.
    """
    from neuromech.terms import is_iri  # noqa: PLC0415 -- keeps this module's imports light

    for name in (graph, inferred):
        if not is_iri(name):
            raise UsageError(f"graph name {name!r} is not an absolute IRI")
    if graph == inferred:
        raise UsageError("the asserted and inferred graphs must differ")
    graphs = read_build(dist_dir)
    store = RemoteStore(endpoint, gsp_url=endpoint, timeout=timeout, user=user, password=password)
    store.put_graph(graphs.asserted, graph)
    store.put_graph(graphs.inferred, inferred)
    return PublishReport(endpoint, {graph: graphs.asserted_count, inferred: graphs.inferred_count})
