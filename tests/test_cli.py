"""The CLI end to end, including every bad-input case: one clear message, a non-zero exit,
and nothing half-written in dist/."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from neuromech.cli import main
from neuromech.export import FINDINGS_COLUMNS, read_findings_tsv

from .conftest import MINI_DATA, ROOT


def _project(tmp_path: Path, data: Path = ROOT / "data") -> Path:
    root = tmp_path / "project"
    for folder in ("ontology", "shapes", "queries"):
        shutil.copytree(ROOT / folder, root / folder)
    shutil.copytree(data, root / "data")
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = _project(tmp_path_factory.mktemp("built"))
    assert main(["build", "--root", str(root)]) == 0
    return root


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_build_writes_every_artifact(built: Path) -> None:
    names = {p.name for p in (built / "dist").iterdir()}
    assert names >= {
        "neuromech.ttl",
        "neuromech.owl",
        "neuromech.jsonld",
        "findings.tsv",
        "build-summary.json",
        "inferred.ttl",
    }
    assert not [n for n in names if n.startswith(".staging")], "no staging leftovers"
    hermit = json.loads((built / "dist" / ".cache" / "hermit.json").read_text())
    assert len(hermit["entity_layer_sha256"]) == 64
    assert hermit["unsatisfiable_classes"] == []
    summary = json.loads((built / "dist" / "build-summary.json").read_text())
    assert summary["findings"] >= 30
    assert summary["unsatisfiable_classes"] == []
    assert summary["findings_by_review"]["nmr:nssi"] >= 30


def test_findings_tsv_round_trips_with_the_query(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = read_findings_tsv((built / "dist" / "findings.tsv").read_text(encoding="utf-8"))
    assert list(records[0]) == list(FINDINGS_COLUMNS)
    code, out, _ = run(capsys, "findings", "--root", str(built), "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert [r["finding_id"] for r in records] == [r["finding"] for r in rows]
    by_id = {r["finding_id"]: r for r in records}
    first = by_id["nmf:nssi-0007"]
    assert first["entity"] == "amygdala"
    assert first["entity_ids"] == "UBERON:0001876|HBA:4327"  # HBA: derived by `mappings derive-allen`
    assert first["partner"] == "supplementary motor area"
    assert first["direction"] == "increased"
    assert first["measure"] == "functional connectivity"
    assert first["cited_study"] == "Schreiner et al., 2017"
    assert first["condition_ids"] == "HP:0100716"
    assert "静息态功能连接" in first["quote_zh"]
    assert first["evidence_eco"] == "ECO:0006166"
    assert "task: resting state" in first["context"]


def test_queries_lists_every_stored_query(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "queries", "--format", "tsv")
    assert code == 0
    names = {line.split("\t")[0] for line in out.splitlines()[1:]}
    assert names == {p.stem for p in (ROOT / "queries").glob("*.rq")}


def test_query_with_parameters_in_every_format(capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("table", "csv", "tsv", "json"):
        code, out, _ = run(
            capsys, "query", "findings-citing-study", "--param", "study=Schreiner et al., 2017", "--format", fmt
        )
        assert code == 0
        assert "nmf:nssi-0007" in out
    code, out, _ = run(
        capsys,
        "query",
        "evidence-for-pair",
        "-p",
        "condition=自伤行为",
        "-p",
        "entity=nme:amygdala",
        "--format",
        "json",
    )
    assert code == 0
    assert {r["finding"] for r in json.loads(out)} >= {"nmf:nssi-0002", "nmf:nssi-0006"}


@pytest.mark.parametrize(
    "name",
    [
        "NSSI",
        "non-suicidal self-injury",
        "非自杀性自伤行为",
        "nme:nssi",
        "https://w3id.org/neuromech/entity/nssi",
        "HP:0100716",
    ],
)
def test_conditions_are_named_by_label_curie_iri_or_mapped_id(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "findings", "--condition", name, "--entity", "dorsolateral prefrontal cortex", "--format", "tsv"
    )
    assert code == 0
    assert "nmf:nssi-0010" in out


def test_shared_lists_entities_of_both_conditions_with_evidence(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(capsys, "shared", "SI", "低落", "--root", str(ROOT), "--format", "json")
    # the real graph has no such conditions: a clear message, not a crash
    assert code == 64
    code, _, err = run(capsys, "shared", "nonexistent condition", "NSSI")
    assert code == 64
    assert "unknown condition" in err


def test_shared_on_fixture(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _project(tmp_path, MINI_DATA)
    code, out, _ = run(capsys, "shared", "SI", "低落", "--root", str(root), "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert [(s["level"], s["match"], s["agreement"]) for s in report["shared"]] == [
        ("nme:almond", "same entity", "same direction"),
        ("nme:cingulate", "via hierarchy", "unknown"),
    ]
    assert [f["finding"] for f in report["shared"][0]["findings_a"]] == ["nmf:fixture-0001", "nmf:fixture-0002"]
    assert [f["finding"] for f in report["shared"][0]["findings_b"]] == ["nmf:fixture-0004"]
    assert [(s["statement_node"], s["check"]) for s in report["stated"]] == [
        ("nmf:fixture-0008", "agrees"),
        ("nmf:fixture-0009", "agrees"),
    ]
    code, out, _ = run(capsys, "shared", "HP:0100716", "low mood", "--root", str(root))
    assert code == 0
    assert "almond" in out
    assert "nmf:fixture-0004" in out
    assert "What the reviews state" in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["explain", "SI", "cingulate"], "implicates within (through the hierarchy)"),
        (["explain", "SI", "stress hormone"], "investigated only"),
        (["similar", "SI", "--permutations", "20"], "low-mood"),
        (["conflicts"], "explained by context"),
        (["modules", "--condition", "SI"], "almond-cingulate coupling"),
    ],
)
def test_reasoning_commands_on_fixture(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    root = _project(tmp_path, MINI_DATA)
    for fmt in ("table", "tsv", "json"):
        code, out, err = run(capsys, *args, "--root", str(root), "--format", fmt)
        assert code == 0, err
        if fmt != "tsv":  # TSV holds the rows only; the verdict lines are part of table and JSON
            assert expected in out
        if fmt == "json":
            assert isinstance(json.loads(out), dict)
        if fmt == "tsv":
            lines = out.splitlines()
            assert len(lines[0].split("\t")) > 3
            assert len(lines) > 1


def test_similar_rejects_negative_permutations(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "similar", "NSSI", "--permutations", "-1")
    assert code == 64
    assert "--permutations" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["query", "no-such-query"], "unknown query 'no-such-query'"),
        (["query", "findings", "--param", "colour=red"], "has no parameter 'colour'"),
        (["query", "findings", "--param", "review=http://x/a> } DROP ALL {"], "malformed IRI"),
        (["query", "findings", "--param", "noequals"], "--param takes name=value"),
        (["query", "shared-mechanisms", "--param", "a=NSSI"], "needs parameter 'b'"),
        (["findings", "--condition", "no such disorder"], "unknown condition"),
        (["findings", "--entity", "amygdale"], "did you mean 'amygdala'"),
    ],
)
def test_bad_input_gives_one_clear_message_and_usage_exit(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, *args)
    assert code == 64
    assert message in err
    assert err.startswith("neuromech: error:")
    assert "Traceback" not in err


def test_malformed_turtle_names_file_and_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _project(tmp_path, MINI_DATA)
    bad = root / "data" / "broken.ttl"
    bad.write_text('@prefix nm: <https://w3id.org/neuromech/> .\n\nnm:a nm:b "unterminated .\n', encoding="utf-8")
    code, _, err = run(capsys, "build", "--root", str(root))
    assert code == 2
    assert f"{bad}:3: invalid Turtle" in err
    assert not (root / "dist").exists()


def test_shape_violations_fail_build_and_validate_without_touching_dist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _project(tmp_path, MINI_DATA)
    assert main(["build", "--root", str(root), "--no-reasoner"]) == 0
    before = {p.name: p.read_bytes() for p in (root / "dist").iterdir()}
    findings = root / "data" / "findings.ttl"
    findings.write_text(
        findings.read_text(encoding="utf-8").replace("nm:has_direction nm:decreased ;", ""), encoding="utf-8"
    )
    capsys.readouterr()
    code, _, err = run(capsys, "build", "--root", str(root))
    assert code == 3
    for expected in ("nmf:fixture-0005", "nmsh:finding-direction", "findings.ttl"):
        assert expected in err
    assert {p.name: p.read_bytes() for p in (root / "dist").iterdir()} == before
    code, _, err = run(capsys, "validate", "--root", str(root), str(findings))
    assert code == 3
    assert "SHACL: 1 violation(s)." in err


def test_validate_passes_on_real_data(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate")
    assert code == 0
    assert "conform" in out


def test_fmt_check_passes_on_committed_data(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "fmt", "--check")
    assert code == 0, f"data files are not canonical; run `neuromech fmt`:\n{out}"


def test_fmt_check_flags_a_non_canonical_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _project(tmp_path, MINI_DATA)
    code, out, _ = run(capsys, "fmt", "--check", "--root", str(root))
    assert code == 1
    assert "would reformat" in out
    code, _, _ = run(capsys, "fmt", "--root", str(root))
    assert code == 0
    code, _, _ = run(capsys, "fmt", "--check", "--root", str(root))
    assert code == 0
