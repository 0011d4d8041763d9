"""Fetched external corpora (qcrobust.allegro.sources): AFLUX and OPTIMADE responses in their
real formats, replayed by a server on 127.0.0.1 (tests/replay_server.py) through the same HTTP
code path the rules use: paging, retries, an error response, an empty result, null fields. No
test reaches the network."""

from __future__ import annotations

import json

import ase.io
import numpy as np
import pytest
from ase.geometry import cell_to_cellpar
from replay_server import FIXTURES, ReplayServer

from qcrobust import layout
from qcrobust.allegro.sources import (
    AFLUX_KEYWORDS,
    OPTIMADE_PROVIDERS,
    Source,
    aflux_frame,
    fetch,
    fetch_responses,
    queries,
    write_fetched_corpus,
)
from qcrobust.config import validate_config
from qcrobust.errors import InputError

PAIRS = [("Cu", "Pt"), ("Cu", "Pd")]


def source_block(**changes) -> dict:
    """``allegro.pretrain.source`` with the schema's defaults and ``changes`` (fast retries for tests)."""
    block = {"backoff": 0.01, "retries": 2, "timeout": 5, "page_size": 2} | changes
    config = validate_config(
        {"systems": {"CuPt": {"dataset": "d.extxyz", "inference": "i.extxyz"}}, "allegro": {"pretrain": {"source": block}}}
    )
    return config["allegro"]["pretrain"]["source"]


def species_files(tmp_path) -> list:
    """The species.json of the fixture study's systems (CuPt, CuPd: host Cu)."""
    files = []
    for system, dopant in (("CuPt", "Pt"), ("CuPd", "Pd")):
        path = tmp_path / f"{system}.species.json"
        path.write_text(json.dumps({"species": ["Cu", dopant], "host": "Cu"}))
        files.append(path)
    return files


def run_rules(tmp_path, block):
    """Rule allegro_fetch then rule allegro_fetched_corpus; returns (responses doc, provenance, frames)."""
    species = species_files(tmp_path)
    responses = tmp_path / "fetched" / "responses.json"
    fetch_responses(block, None, species, responses)
    facts = write_fetched_corpus(
        responses, None, species, corpus=tmp_path / "fetched" / "corpus.extxyz", provenance=tmp_path / "fetched" / "provenance.json"
    )
    assert json.loads((tmp_path / "fetched" / "provenance.json").read_text()) == json.loads(json.dumps(facts))
    return json.loads(responses.read_text()), facts, ase.io.read(tmp_path / "fetched" / "corpus.extxyz", ":")


def test_aflux_pages_and_converts_the_relaxed_structures(tmp_path):
    with ReplayServer() as server:
        doc, facts, frames = run_rules(tmp_path, source_block(api="aflux", url=f"{server.base}/API/aflux/"))
        requests = list(server.requests)
    # paging: Cu-Pt has 3 entries at 2 per page (page 2 is short: stop); Cu-Pd a full page 1, then an empty page 2
    cupt = next(q for q in doc["queries"] if q["query"] == "species(Cu,Pt),nspecies(2)")
    assert [p["url"].split(",paging")[1] for p in cupt["pages"]] == ["(1,2),format(json)", "(2,2),format(json)"]
    assert all(",".join(AFLUX_KEYWORDS) in p["url"] for p in cupt["pages"])  # AFLUX returns only the keywords named
    cupd = next(q for q in doc["queries"] if q["query"] == "species(Cu,Pd),nspecies(2)")
    assert [len(p["body"]) for p in cupd["pages"]] == [2, 0]
    assert len(requests) == 2 + 2 + 3  # two binaries (2 pages each), three elements (1 page each)
    assert [q["query"] for q in doc["queries"]][2:] == ["species(Cu),nspecies(1)", "species(Pt),nspecies(1)", "species(Pd),nspecies(1)"]
    # the raw bodies are cached as received
    assert cupt["pages"][1]["body"] == json.loads((FIXTURES / "aflux" / "Cu-Pt.page2.json").read_text())

    # conversion: Cu3Pt, CuPt, CuPt3, CuPd, Cu, Pt; Cu3Pd's null enthalpy is skipped; Pd's query was empty
    assert [a.info["formula"] for a in frames] == ["Cu3Pt", "CuPt", "CuPt3", "CuPd", "Cu", "Pt"]
    assert facts["n_frames"] == 6 and facts["elements"] == ["Cu", "Pd", "Pt"]
    assert facts["skipped"] == [
        {"id": "aflow:d25b8e6f3a07c914", "query": "species(Cu,Pd),nspecies(2)", "reason": "enthalpy_formation_atom is null"}
    ]
    assert [a.info["e_form"] for a in frames] == pytest.approx([-0.0943, -0.1127, -0.0598, -0.1261, 0.0, 0.0])
    assert (facts["label_min"], facts["label_max"]) == pytest.approx((-0.1261, 0.0))
    assert frames[0].info["id"] == "aflow:0b7e1c43a95f2d18" and frames[0].info["provider"] == "aflow"
    # geometry: the relaxed cell parameters and fractional positions, atoms ordered by species x composition
    cu3pt = frames[0]
    assert cu3pt.get_chemical_symbols() == ["Cu", "Cu", "Cu", "Pt"] and cu3pt.pbc.all()
    np.testing.assert_allclose(cell_to_cellpar(cu3pt.cell), [3.7032] * 3 + [90] * 3, atol=1e-9)
    np.testing.assert_allclose(cu3pt.get_scaled_positions()[3], [0, 0, 0], atol=1e-12)
    assert cu3pt.get_volume() == pytest.approx(3.7032**3)
    fcc = frames[4]  # Cu's primitive fcc cell: a = 2.5657, 60 degrees
    assert fcc.get_volume() == pytest.approx(2.5657**3 / np.sqrt(2))
    # provenance: provider, query, URLs, date, every entry kept
    assert facts["provider"] == "aflow" and facts["energy_field"] == "enthalpy_formation_atom" and facts["retrieved"]
    assert [e["id"] for e in facts["entries"]] == [a.info["id"] for a in frames]
    assert facts["queries"][0]["urls"] == [p["url"] for p in cupt["pages"]] and facts["queries"][0]["entries"] == 3


def test_optimade_pages_through_its_client_and_reads_the_providers_field(tmp_path):
    with ReplayServer() as server:
        doc, facts, frames = run_rules(tmp_path, source_block(api="optimade", provider="oqmd", url=server.base))
        requests = list(server.requests)
    cupt = doc["queries"][0]
    assert cupt["query"] == 'elements HAS ALL "Cu","Pt" AND nelements=2'
    # page 1 names the fields and the page size; page 2 is the provider's links.next
    assert "page_limit=2" in cupt["pages"][0]["url"] and "_oqmd_delta_e" in cupt["pages"][0]["url"]
    assert "page_offset=2" in cupt["pages"][1]["url"] and len(cupt["pages"]) == 2
    assert len(requests) == 2 + 1 + 3
    # Cu-Pt: the null _oqmd_delta_e of CuPt3 is skipped; Pt's query is empty
    assert [a.info["formula"] for a in frames] == ["Cu3Pt", "CuPt", "CuPd", "Cu4", "Pd4"]
    assert [a.info["e_form"] for a in frames] == pytest.approx([-0.0868, 0.0511, -0.1302, 0.0, 0.0])
    assert facts["skipped"] == [{"id": "oqmd-4023", "query": cupt["query"], "reason": "_oqmd_delta_e is null"}]
    assert facts["energy_field"] == "_oqmd_delta_e" and facts["provider"] == "oqmd" and "delta_e" in facts["label_meaning"]
    # geometry: lattice_vectors and cartesian_site_positions as given, species resolved through 'species'
    body = json.loads((FIXTURES / "optimade" / "Cu-Pt.page1.json").read_text())["data"][0]["attributes"]
    np.testing.assert_allclose(frames[0].cell.array, body["lattice_vectors"])
    np.testing.assert_allclose(frames[0].positions, body["cartesian_site_positions"])
    assert frames[0].get_chemical_symbols() == body["species_at_sites"]


@pytest.mark.parametrize(
    "api, fail, reason",
    [
        ("aflux", {"species(Cu,Pt)": [500, "Internal Server Error", None]}, "gave up after 3 tries (too many 500 error responses)"),
        ("aflux", {"species(Cu,Pt)": [200, "DB Fail!null", None]}, "page 1: not an AFLUX JSON answer: DB Fail!null"),
        ("aflux", {"species(Cu,Pt)": [404, "no such page", None]}, "HTTP 404 (no such page)"),
        (
            "optimade",
            {
                "v1/structures": [
                    400,
                    {"errors": [{"status": "400", "title": "Bad Request", "detail": "unknown property\n_oqmd_delta_e"}]},
                    None,
                ]
            },
            "HTTP 400: Bad Request: unknown property _oqmd_delta_e",
        ),
        ("optimade", {"v1/structures": [502, "Bad Gateway", None]}, "gave up after 3 tries"),
    ],
)
def test_a_failing_provider_is_one_line_naming_it_and_the_query(tmp_path, api, fail, reason):
    with ReplayServer(fail=fail) as server:
        block = source_block(
            api=api, provider=None if api == "aflux" else "oqmd", url=f"{server.base}/API/aflux/" if api == "aflux" else server.base
        )
        with pytest.raises(InputError) as err:
            fetch_responses(block, None, species_files(tmp_path), tmp_path / "responses.json")
        retried = len(server.requests)
    message = str(err.value)
    query = "species(Cu,Pt),nspecies(2)" if api == "aflux" else 'elements HAS ALL "Cu","Pt" AND nelements=2'
    assert "\n" not in message and message.startswith(f"{'aflow' if api == 'aflux' else 'oqmd'} ({server.base}")
    assert f"query {query!r}: {reason}" in message
    assert retried == (3 if "gave up" in reason else 1)  # 5xx retried (retries=2), the rest not
    assert not (tmp_path / "responses.json").exists()  # nothing half-written


def test_a_provider_that_cannot_be_reached_names_itself_and_the_query(tmp_path):
    with ReplayServer() as server:
        url = f"{server.base}/API/aflux/"
    block = source_block(api="aflux", url=url, retries=1)  # the server is gone: nothing listens there
    with pytest.raises(
        InputError,
        match=r"^aflow \(http://127\.0\.0\.1:\d+/API/aflux/\): query 'species\(Cu,Pt\),"
        r"nspecies\(2\)': cannot connect after 2 tries",
    ):
        fetch(Source.from_config(block), PAIRS)


def test_transient_errors_are_retried_with_backoff(tmp_path):
    with ReplayServer(fail={"species(Cu,Pt),nspecies(2)": [503, "busy", 2]}) as server:
        doc = fetch(Source.from_config(source_block(api="aflux", url=f"{server.base}/API/aflux/", backoff=0.05)), PAIRS[:1])
        assert len(server.requests) == 2 + 2 + 2  # page 1 answered on the third try, then page 2, Cu and Pt
    assert [len(p["body"]) for p in doc["queries"][0]["pages"]] == [2, 1]


def test_an_empty_result_is_an_error_naming_the_queries_and_nulls_are_skipped(tmp_path):
    species = [tmp_path / "s.json"]
    species[0].write_text(json.dumps({"species": ["Cu", "Au"], "host": "Cu"}))
    with ReplayServer() as server:  # no fixture for Au: every Au query is empty
        block = source_block(api="aflux", url=f"{server.base}/API/aflux/", unaries=False)
        fetch_responses(block, None, species, tmp_path / "responses.json")
    with pytest.raises(
        InputError,
        match=r"responses\.json: aflow returned no usable entry for "
        r"'species\(Au,Cu\),nspecies\(2\)' \(0 entries\)",
    ):
        write_fetched_corpus(tmp_path / "responses.json", None, species, corpus=tmp_path / "c.extxyz", provenance=tmp_path / "p.json")
    assert not (tmp_path / "c.extxyz").exists()


def test_cached_responses_must_cover_the_study(tmp_path):
    with ReplayServer() as server:
        fetch_responses(source_block(api="aflux", url=f"{server.base}/API/aflux/"), ["Cu", "Pt"], [], tmp_path / "r.json")
    with pytest.raises(
        InputError,
        match=r"r\.json: fetched for the pairs \[\('Cu', 'Pt'\)\], the study now needs "
        r"\[\('Cu', 'Pd'\)\] too: rerun with `--forcerun allegro_fetch`",
    ):
        write_fetched_corpus(
            tmp_path / "r.json", None, species_files(tmp_path), corpus=tmp_path / "c.extxyz", provenance=tmp_path / "p.json"
        )


def test_aflux_entries_in_aflows_string_form_and_broken_entries():
    entry = {
        "auid": "aflow:83cd2da0257e8def",
        "species": "Al,Cu,Mn",
        "composition": "2,1,1",
        "geometry": "4.227529,4.227529,4.227529,60,60,60",
        "enthalpy_formation_atom": "-0.155046",
        "positions_fractional": "0.75,0.75,0.75;0.25,0.25,0.25;0,0,0;0.5,0.5,0.5",
    }
    entry_id, atoms, label = aflux_frame(entry)  # AFLOW's documented T0001.A2BC entry
    assert entry_id == "aflow:83cd2da0257e8def" and label == pytest.approx(-0.155046)
    assert atoms.get_chemical_symbols() == ["Al", "Al", "Cu", "Mn"] and atoms.get_volume() == pytest.approx(53.425, abs=1e-3)
    for broken, reason in (
        (entry | {"geometry": None}, "geometry is null"),
        (entry | {"composition": "2,1"}, "does not match"),
        (entry | {"species": "Al,Cu,Xx"}, "not elements"),
    ):
        with pytest.raises(ValueError, match=reason):
            aflux_frame(broken)


def test_providers_map_to_their_formation_energy_fields():
    assert {name: p.energy_field for name, p in OPTIMADE_PROVIDERS.items()} == {
        "aflow": "_aflow_enthalpy_formation_atom",
        "oqmd": "_oqmd_delta_e",
        "mp": "_mp_stability.gga_gga+u.formation_energy_per_atom",
        "alexandria": "_alexandria_formation_energy_per_atom",
    }
    mp = Source.from_config(source_block(api="optimade", provider="mp"))
    assert mp.url == "https://optimade.materialsproject.org" and mp.provider == "mp"
    aflux = Source.from_config(source_block(api="aflux"))
    assert aflux.url == "https://aflow.org/API/aflux/" and aflux.energy_field == "enthalpy_formation_atom"
    own = Source.from_config(source_block(api="optimade", url="https://example.org/optimade", energy_field="_x_e_form"))
    assert own.provider == "https://example.org/optimade" and own.energy_field == "_x_e_form"
    assert [q.text for q in queries(own, [("Sc", "Pt")])] == [
        'elements HAS ALL "Pt","Sc" AND nelements=2',
        'elements HAS ALL "Sc" AND nelements=1',
        'elements HAS ALL "Pt" AND nelements=1',
    ]


@pytest.mark.parametrize(
    "pretrain, record, problem",
    [
        ({"corpus": "c.extxyz", "source": {"api": "aflux"}}, "allegro.pretrain.source.api", "set together with 'allegro.pretrain.corpus'"),
        (
            {"source": {"api": "aflux"}, "package": "m.nequip.zip"},
            "allegro.pretrain.package",
            "set together with 'allegro.pretrain.source.api'",
        ),
        ({"source": {"api": "aflux", "provider": "oqmd"}}, "allegro.pretrain.source.provider", "AFLUX is AFLOW's own API"),
        ({"source": {"api": "optimade"}}, "allegro.pretrain.source.provider", "null needs both url and energy_field"),
        ({"source": {"api": "optimade", "provider": "mp"}, "target": "e_above_hull"}, "allegro.pretrain.target", "labelled e_form"),
        ({"package": "model.pth"}, "allegro.pretrain.package", "model.pth: not a nequip package (.nequip.zip)"),
    ],
)
def test_pretrain_sources_are_exclusive_and_consistent(tmp_path, pretrain, record, problem):
    config = {"systems": {"CuPt": {"dataset": "d.extxyz", "inference": "i.extxyz"}}, "allegro": {"pretrain": pretrain}}
    with pytest.raises(InputError) as err:
        validate_config(config, "my.yaml")
    assert str(err.value).startswith(f"my.yaml: key '{record}': ") and problem in str(err.value)


def test_the_findings_name_the_external_regimes_source():
    from qcrobust.workflow.report import external_corpus_note

    def note(**pretrain):
        config = validate_config(
            {
                "systems": {"CuPt": {"dataset": "d.extxyz", "inference": "i.extxyz"}},
                "allegro": {"models": ["external"], "pretrain": pretrain},
            }
        )
        return external_corpus_note(config)

    assert note().startswith("Allegro external: pretrained on the built-in corpus")
    assert "allegro.pretrain.source to fetch a corpus from AFLOW or an OPTIMADE provider" in note()
    assert note(source={"api": "optimade", "provider": "alexandria"}) == (
        "Allegro external: pretrained on a corpus fetched from alexandria (OPTIMADE, https://alexandria.icams.rub.de/pbe; "
        "label _alexandria_formation_energy_per_atom, eV/atom): Alexandria's PBE formation energy per atom, the relaxed "
        f"structures of the host-dopant binaries and elements; the entries, queries and retrieval date are in "
        f"{layout.PRETRAIN_PROVENANCE}."
    )
    assert note(package="oam.nequip.zip").startswith("Allegro external: fine-tuned from the published package oam.nequip.zip")
