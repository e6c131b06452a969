"""`zhiyi bench fhir`: a small population loaded through transaction Bundles into the real server, the
search mix run on it and the anchor measured; every resource sent is counted and stored, and every
search finds what the loaded data must give."""

from __future__ import annotations

import json

from fhir.resources.R4B import get_fhir_model_class
from typer.testing import CliRunner

from zhiyi.bench import fhir, fhir_anchor, loop
from zhiyi.bench import fhir_population as population
from zhiyi.bench.cli import app

TOP_KEYS = {
    "db",
    "patients",
    "resources",
    "ingest_resources_per_s",
    "raw_insert_rows_per_s",
    "ingest_ratio",
    "cpu_ms_per_resource",
    "workers",
    "concurrency",
    "server_cores_used",
    "errors",
    "searches",
    "targets_met",
}


def test_the_population_is_valid_r4_and_the_same_for_the_same_seed():
    shared = population.shared_bundle(7)
    bundle, facts = population.patient_bundle(7, 3, per_patient=40)
    assert population.patient_bundle(7, 3, per_patient=40) == (bundle, facts)
    assert population.patient_bundle(8, 3, per_patient=40)[0] != bundle
    for b in (shared, bundle):
        get_fhir_model_class("Bundle").model_validate(b)
        for entry in b["entry"]:
            get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert len(kinds) == facts.resources == 40
    assert {k: kinds.count(k) for k in set(kinds)} == population.counts(40)
    assert len(shared["entry"]) == population.ORGANIZATIONS + population.PRACTITIONERS
    # the anchor's rows: every urn:uuid resolved to the id given to its resource
    rows = population.resolved(bundle)
    ids = {f"{t}/{i}" for t, i, _ in rows}
    refs = [r["subject"]["reference"] for _, _, r in rows if "subject" in r]
    assert refs and all(ref in ids for ref in refs)
    assert "urn:uuid:" not in json.dumps([r for _, _, r in rows])


def test_the_bench_loads_every_resource_and_finds_what_it_loaded(backend, tmp_path):
    # the backend fixture skips PostgreSQL when it is not reachable, and fails under CI=true; SQLite is
    # served by one process
    db = backend.url if backend.name == "postgresql" else f"sqlite:///{tmp_path / 'fhir.db'}"
    workers = 2 if backend.name == "postgresql" else 1
    out = CliRunner().invoke(
        app,
        [
            "fhir",
            "--db",
            db,
            "--patients",
            "3",
            "--per-patient",
            "20",
            "--searches",
            "5",
            "--workers",
            str(workers),
        ],
    )
    assert out.exit_code == 0, out.output
    result = json.loads(out.output.strip().splitlines()[-1])
    assert TOP_KEYS <= result.keys()
    assert result["db"] == backend.name and result["workers"] == workers
    loaded = 3 * 20 + population.ORGANIZATIONS + population.PRACTITIONERS
    assert result["resources"] == result["stored_resources"] == loaded, result
    assert result["errors"] == 0 and result["ingest_failures"] == 0, result
    assert set(result["searches"]) == set(fhir.KINDS)
    for kind, figures in result["searches"].items():
        assert figures["n"] == 5 and figures["errors"] == 0, (kind, result)
        assert 0 < figures["p50_ms"] <= figures["p95_ms"], (kind, figures)
    assert result["ingest_resources_per_s"] > 0 and result["raw_insert_rows_per_s"] > 0
    assert set(result["targets_met"]) == {"ingest_ratio", "ingest_per_core", "search_p95_under_100ms"}


def test_the_anchor_inserts_what_the_server_was_sent(backend, fresh_db_url):
    load = fhir_anchor.Load(seed=2, patients=3, per_patient=10, concurrency=2)
    if backend.name == "postgresql":
        rows, seconds = loop.run(fhir_anchor.run_pg(fresh_db_url, load))
    else:
        rows, seconds = fhir_anchor.run_sqlite(fresh_db_url, load)
    assert rows == 3 * 10 + population.ORGANIZATIONS + population.PRACTITIONERS and seconds > 0
