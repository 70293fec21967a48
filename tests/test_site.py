"""The static site: overlap scores, causal diagrams, link checking, atomic publishing, and built pages."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from neuromech.build import KnowledgeGraph
from neuromech.cli import main
from neuromech.errors import UsageError
from neuromech.export import publish_tree
from neuromech.namespaces import NME
from neuromech.paths import ProjectPaths
from neuromech.site import build_site, internal_links
from neuromech.site.builder import BrokenLinks
from neuromech.site.collect import collect
from neuromech.site.diagrams import causal_diagram
from neuromech.site.model import Label, MechanismModel, Step
from neuromech.site.overlap import jaccard, overlap_matrix, shared_entities, similar_conditions

SVG = "{http://www.w3.org/2000/svg}"

IMPLICATED = {
    "a": {"amygdala", "insula", "dopamine"},
    "b": {"amygdala", "insula", "serotonin"},
    "c": {"dopamine"},
    "d": {"oxytocin"},
}


def test_jaccard() -> None:
    assert jaccard({"x", "y"}, {"y", "z"}) == pytest.approx(1 / 3)
    assert jaccard(set(), set()) == 0.0
    assert jaccard({"x"}, {"x"}) == 1.0


def test_shared_entities_and_matrix() -> None:
    overlap = shared_entities(IMPLICATED, "a", "b")
    assert overlap.shared == ("amygdala", "insula")
    assert overlap.score == pytest.approx(2 / 4)
    matrix = overlap_matrix(IMPLICATED, ["a", "b", "d"])
    assert len(matrix) == 9
    assert matrix[("a", "a")].score == 1.0
    assert matrix[("a", "d")].shared == ()
    assert matrix[("b", "a")].shared == matrix[("a", "b")].shared


def test_similar_conditions_rank_and_leave_out_disjoint() -> None:
    ranked = similar_conditions(IMPLICATED, "a")
    assert [o.b for o in ranked] == ["b", "c"]  # 2/4 before 1/3; d shares nothing
    assert similar_conditions(IMPLICATED, "a", top=1)[0].b == "b"
    assert similar_conditions(IMPLICATED, "d") == []


def _model(edges: dict[int, list[int]]) -> MechanismModel:
    iri = "https://example.org/m"
    steps = [
        Step(
            f"{iri}-s{i}",
            Label(f"step {i} " + "word " * (12 * i), "中文步骤" * i),
            i,
            [],
            [f"{iri}-s{j}" for j in edges.get(i, [])],
            [],
        )
        for i in range(1, 5)
    ]
    return MechanismModel(iri, "m", Label("m", "模型"), "", "", "", [], [], steps)


def test_causal_diagram_places_every_arrow_downwards() -> None:
    # 1 -> 2, 1 -> 3, 2 -> 4, 3 -> 4: a diamond, three layers
    model = _model({1: [2, 3], 2: [4], 3: [4]})
    svg = ET.fromstring(causal_diagram(model, {s.iri: f"#{s.index}" for s in model.steps}))
    rects = svg.findall(f".//{SVG}rect")
    lines = svg.findall(f".//{SVG}line")
    assert len(rects) == 4
    assert len(lines) == 4
    tops = {
        int(a.get("href", "#0")[1:]): float(r.get("y", "0"))
        for a in svg.findall(f"{SVG}a")
        for r in a.findall(f"{SVG}rect")
    }
    assert tops[1] < tops[2] == tops[3] < tops[4]
    for line in lines:
        assert float(line.get("y2", "0")) > float(line.get("y1", "0"))
    texts = "".join(t.text or "" for t in svg.iter(f"{SVG}text"))
    assert "中文步骤" in texts


def test_internal_links_reports_missing_files_and_anchors() -> None:
    files: dict[str, str | bytes] = {
        "index.html": '<a href="a/b.html#x">ok</a> <a href="a/b.html#nope">bad anchor</a> <a href="https://w3id.org/x">ext</a>',
        "a/b.html": '<p id="x"></p><a href="../index.html">up</a><img src="../missing.png"><a href="#x">self</a>',
    }
    broken = internal_links(files)
    assert len(broken) == 2
    assert any("nope" in b for b in broken)
    assert any("missing.png" in b for b in broken)
    files["missing.png"] = b""
    files["a/b.html"] = str(files["a/b.html"]).replace("#x", "#x")
    files["index.html"] = str(files["index.html"]).replace("#nope", "#x")
    assert internal_links(files) == []


def test_publish_tree_replaces_whole_folder_or_nothing(tmp_path: Path) -> None:
    target = tmp_path / "site"
    publish_tree({"index.html": "one", "old.html": "stale"}, target)
    publish_tree({"index.html": "two", "sub/page.html": "p"}, target)
    assert (target / "index.html").read_text() == "two"
    assert not (target / "old.html").exists()
    assert (target / "sub" / "page.html").read_text() == "p"
    # a file whose parent is a file cannot be written: the old site must survive unchanged
    with pytest.raises(OSError, match=r"index\.html"):
        publish_tree({"index.html": "three", "index.html/x": "boom"}, target)
    assert (target / "index.html").read_text() == "two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_build_without_javascript_libraries_fails_and_writes_nothing(
    repo: ProjectPaths, real_kg: KnowledgeGraph, tmp_path: Path
) -> None:
    paths = ProjectPaths(tmp_path / "checkout")  # no node_modules there
    target = tmp_path / "site"
    target.mkdir()
    (target / "index.html").write_text("previous")
    with pytest.raises(UsageError, match="npm ci"):
        build_site(paths, target, kg=real_kg)
    assert (target / "index.html").read_text() == "previous"
    assert repo.node_modules_dir.is_dir()


def test_site_builds_on_the_fixture_graph(
    mini: ProjectPaths, mini_kg: KnowledgeGraph, repo: ProjectPaths, tmp_path: Path
) -> None:
    paths = ProjectPaths(repo.root, data=mini.data)
    result = build_site(paths, tmp_path / "site", kg=mini_kg)
    data = collect(mini_kg)
    for node in data.conditions.values():
        assert (result.target / "condition" / f"{node.slug}.html").is_file()
    for node in data.entities.values():
        assert (result.target / "entity" / f"{node.slug}.html").is_file()
    assert result.pages == 6 + len(data.conditions) + len(data.entities) + len(data.reviews)


def test_real_site_has_a_page_per_condition_entity_and_review(site_dir: Path, real_kg: KnowledgeGraph) -> None:
    data = collect(real_kg)
    assert len(data.conditions) >= 10
    expected = (
        {f"condition/{n.slug}.html" for n in data.conditions.values()}
        | {f"entity/{n.slug}.html" for n in data.entities.values()}
        | {f"review/{r.slug}.html" for r in data.reviews.values()}
        | {"index.html", "entities.html", "matrix.html", "network.html", "ontology.html", "queries.html"}
    )
    pages = {str(p.relative_to(site_dir)) for p in site_dir.rglob("*.html")}
    assert pages == expected
    assert (site_dir / "vendor" / "cytoscape" / "LICENSE").read_text().startswith("Copyright")
    files: dict[str, str | bytes] = {
        str(p.relative_to(site_dir)): p.read_text(encoding="utf-8") if p.suffix == ".html" else b""
        for p in site_dir.rglob("*")
        if p.is_file()
    }
    assert internal_links(files) == []


def test_amygdala_page_lists_every_nssi_finding_on_it(site_dir: Path, real_kg: KnowledgeGraph) -> None:
    page = (site_dir / "entity" / "amygdala.html").read_text(encoding="utf-8")
    assert "杏仁核" in page
    assert 'href="http://purl.obolibrary.org/obo/UBERON_0001876"' in page
    rows = real_kg.query("findings", {"condition": "NSSI", "entity": "nme:amygdala"}).dicts()
    assert rows
    for row in rows:
        curie = "nmf:" + str(row["finding"]).rsplit("/", 1)[-1]
        assert curie in page, curie
        assert str(row["quote"]).split(" … ")[0] in page


def test_condition_page_shows_similar_conditions_from_implicated_entities(
    site_dir: Path, real_kg: KnowledgeGraph
) -> None:
    data = collect(real_kg)
    nssi = str(NME.nssi)
    best = similar_conditions(data.implicates, nssi, 1)[0]
    page = (site_dir / "condition" / "nssi.html").read_text(encoding="utf-8")
    similar = page[page.index('id="similar"') :]
    first = re.search(r'<h3><a href="([^"]+)"', similar)
    assert first is not None
    assert first.group(1) == f"../condition/{data.conditions[best.b].slug}.html"
    assert f"{best.score:.2f}" in similar


def test_cli_site_writes_the_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["site", "--out", str(out)]) == 0
    assert "pages" in capsys.readouterr().out
    assert (out / "index.html").is_file()
    assert (out / "data" / "search.js").read_text(encoding="utf-8").startswith("window.NM_SEARCH = [")


def test_broken_links_error_is_a_neuromech_error() -> None:
    assert BrokenLinks("x").exit_code == 1
