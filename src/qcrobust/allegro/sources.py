"""External pretraining corpora fetched from the web: AFLOW's AFLUX API and OPTIMADE providers.

Two rules, so that the network is touched once (config ``allegro.pretrain.source``):

- ``allegro_fetch`` (:func:`fetch_responses`) queries the provider for the study's host–dopant
  binaries (and, with ``unaries``, each element's own entries), page by page, and writes every
  response body as it came (JSON) to ``results/allegro_pretrain/fetched/responses.json``: the
  rule's output is the cache, so a rerun never queries again; snakemake reruns the rule only
  when the ``source`` settings change (its params), or on ``--forcerun allegro_fetch``.
- ``allegro_fetched_corpus`` (:func:`write_fetched_corpus`) converts the cached responses into
  the corpus contract: extxyz frames of the relaxed structures with the per-atom label
  ``e_form`` (eV/atom) in their info, and ``provenance.json`` beside it (provider, URL, queries,
  retrieval date, the entry ids kept and those skipped, with the reason).

What is read, per API
---------------------
AFLUX (``api: aflux``, default ``https://aflow.org/API/aflux/``; AFLOW's own search API, plain
HTTP; the paper pretrained on an AFLOW slice). One query per element set, e.g.
``species(Cu,Pt),nspecies(2)`` (``,`` is AFLUX's "and": entries holding both elements and no
third), with the returned keywords listed explicitly (AFLUX returns only the keywords the
request names), ``paging(n,k)`` (page ``n`` of ``k`` entries, from 1) and ``format(json)``.
Paging stops at the first page shorter than ``k``, or at ``max_entries``. Per entry:

- label: ``enthalpy_formation_atom`` (eV/atom, formation enthalpy per atom of the relaxed
  structure against AFLOW's elemental references; 0 for an element's reference phase);
- geometry: ``geometry`` (``a,b,c,alpha,beta,gamma`` of the relaxed cell, Å and degrees) with
  ``positions_fractional`` (relaxed, one triple per atom), the atoms ordered by ``species`` with
  ``composition`` atoms of each (an entry's ``Al,Cu,Mn`` / ``2,1,1`` lists two Al, then Cu, then
  Mn); the ``*_orig`` keywords would be the unrelaxed input. Values come as JSON arrays or as
  AFLOW's comma/semicolon strings; both are read;
- id: ``auid`` (``aflow:<16 hex digits>``).

A response is a JSON list of entries, or (older servers) an object keyed ``"i of N"``.

OPTIMADE (``api: optimade``), through optimade-python-tools' client (``OptimadeClient.get_one``,
synchronous, which follows the JSON:API ``links.next`` pages), filter e.g.
``elements HAS ALL "Cu","Pt" AND nelements=2``; geometry from the standard fields
``lattice_vectors``, ``cartesian_site_positions``, ``species_at_sites`` (each site's species
resolved to its element through ``species``; disordered or non-element sites are skipped). The
energy field is provider-specific (``energy_field`` overrides; the names below are the
providers' published OPTIMADE extensions as public client code uses them -- not checked against
a live server, which this project's machines cannot reach; see :data:`OPTIMADE_PROVIDERS`):

==========  ======================================  =====================================================
provider    base URL                                label (eV/atom) -> ``e_form``
==========  ======================================  =====================================================
aflow       https://aflow.org/API/optimade/         ``_aflow_enthalpy_formation_atom`` (as AFLUX's)
oqmd        https://oqmd.org/optimade/              ``_oqmd_delta_e`` (OQMD's formation energy, ΔH)
mp          https://optimade.materialsproject.org   ``_mp_stability.gga_gga+u.formation_energy_per_atom``
alexandria  https://alexandria.icams.rub.de/pbe     ``_alexandria_formation_energy_per_atom`` (PBE)
==========  ======================================  =====================================================

Every provider's formation energies use its own DFT settings and elemental references, so
corpora of different providers differ by a composition-linear term (which the fine-tuning's
per-type shift reset absorbs) and by their functionals (which it does not).

Network behaviour (one code path, :func:`http_session`: a ``requests`` session whose adapter
retries): each request times out after ``timeout`` s; connection errors, timeouts and HTTP 429,
500, 502, 503 and 504 are retried ``retries`` times with exponential backoff (``backoff`` ×
2^k s, at most 120 s each; a server's ``Retry-After`` is not followed, so that waits stay
bounded); a failure that remains is one :class:`~qcrobust.errors.InputError` line naming the
provider, its URL, the query and the reason. Paging is bounded by ``max_entries`` per query.

Why not the unofficial ``aflow`` package: it points at a retired endpoint
(``aflowlib.duke.edu/search/API``), and matminer's AFLOW retrieval depends on it. Why our own
structure conversion rather than optimade's adapters: those validate a full
``StructureResource``, which fails on a response that carries only the requested fields.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import itertools
import json
import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qcrobust.errors import InputError
from qcrobust.io import write_frames, write_json

log = logging.getLogger(__name__)

APIS = ("aflux", "optimade")
AFLUX_URL = "https://aflow.org/API/aflux/"
AFLUX_LABEL = "enthalpy_formation_atom"
#: the keywords an AFLUX request names (AFLUX returns only those)
AFLUX_KEYWORDS = ("auid", "compound", "species", "composition", "geometry", "positions_fractional", AFLUX_LABEL)
#: the label key of the corpus frames: a formation energy per atom, whatever the provider calls it
LABEL_KEY = "e_form"
#: statuses retried with backoff (rate limit, server errors); others fail at once
RETRY_STATUSES = (429, 500, 502, 503, 504)
BACKOFF_MAX = 120.0


@dataclass(frozen=True)
class Provider:
    """An OPTIMADE provider's base URL and the attribute holding its formation energy per atom."""

    url: str
    energy_field: str  # dotted path under an entry's attributes
    meaning: str


OPTIMADE_PROVIDERS = {
    "aflow": Provider(
        "https://aflow.org/API/optimade/",
        "_aflow_enthalpy_formation_atom",
        "AFLOW's formation enthalpy per atom (PBE, AFLOW's elemental references)",
    ),
    "oqmd": Provider(
        "https://oqmd.org/optimade/",
        "_oqmd_delta_e",
        "OQMD's formation energy per atom delta_e (PBE(+U), OQMD's fitted elemental chemical potentials)",
    ),
    "mp": Provider(
        "https://optimade.materialsproject.org",
        "_mp_stability.gga_gga+u.formation_energy_per_atom",
        "Materials Project's formation energy per atom in its mixed GGA/GGA+U scheme (with its corrections)",
    ),
    "alexandria": Provider(
        "https://alexandria.icams.rub.de/pbe", "_alexandria_formation_energy_per_atom", "Alexandria's PBE formation energy per atom"
    ),
}
#: what the AFLUX label means, for the provenance
AFLUX_MEANING = "AFLOW's formation enthalpy per atom (PBE, AFLOW's elemental references)"


class SkipEntry(ValueError):
    """An entry that cannot become a corpus frame (a null or missing field); the reason is its message."""


@dataclass(frozen=True)
class Source:
    """Where the corpus comes from (config ``allegro.pretrain.source``, defaults filled in)."""

    api: str
    provider: str  # the name said in messages and provenance
    url: str
    energy_field: str
    meaning: str
    unaries: bool
    page_size: int
    max_entries: int
    retries: int
    backoff: float
    timeout: float

    @classmethod
    def from_config(cls, block: Mapping) -> Source:
        """From ``allegro.pretrain.source`` with the schema's defaults filled in."""
        api = block["api"]
        if api not in APIS:
            raise ValueError(f"unknown api {api!r}; expected one of {APIS}")
        common = {key: block[key] for key in ("unaries", "page_size", "max_entries", "retries", "backoff", "timeout")}
        if api == "aflux":
            return cls(api, "aflow", block.get("url") or AFLUX_URL, AFLUX_LABEL, AFLUX_MEANING, **common)
        name = block.get("provider")
        preset = OPTIMADE_PROVIDERS.get(name) if name else None
        url, field = block.get("url") or (preset and preset.url), block.get("energy_field") or (preset and preset.energy_field)
        if not url or not field:
            raise ValueError("an OPTIMADE source needs a known provider or both url and energy_field")
        meaning = preset.meaning if preset and field == preset.energy_field else f"the provider's {field}"
        return cls(api, name or url, url, field, meaning, **common)

    def describe(self) -> str:
        """One phrase for notes: which API, provider and field."""
        via = "AFLUX" if self.api == "aflux" else "OPTIMADE"
        return f"{self.provider} ({via}, {self.url}; label {self.energy_field}, eV/atom)"


@dataclass(frozen=True)
class Query:
    elements: tuple[str, ...]
    text: str  # the AFLUX matchbook or the OPTIMADE filter


def queries(source: Source, pairs: Sequence[tuple[str, str]]) -> list[Query]:
    """One query per host–dopant pair (its binaries), then, with ``source.unaries``, one per element."""
    sets = [tuple(sorted(pair)) for pair in pairs]
    if source.unaries:
        sets += [(element,) for element in dict.fromkeys(e for pair in pairs for e in pair)]
    out = []
    for elements in dict.fromkeys(sets):
        if source.api == "aflux":
            text = f"species({','.join(elements)}),nspecies({len(elements)})"
        else:
            quoted = ",".join(f'"{e}"' for e in elements)
            text = f"elements HAS ALL {quoted} AND nelements={len(elements)}"
        out.append(Query(elements, text))
    return out


# --- HTTP -----------------------------------------------------------------------------------


def http_session(source: Source, record: list | None = None):
    """A ``requests.Session`` subclass (optimade's client takes a class) that retries as the
    module docstring says and, given ``record``, appends ``{"url", "body"}`` of every response
    with status 200 and a JSON body to it (the raw pages, after retries)."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util import Retry

    from qcrobust import __version__

    retry = Retry(
        total=source.retries,
        connect=source.retries,
        read=source.retries,
        status=source.retries,
        other=0,
        backoff_factor=source.backoff,
        backoff_max=BACKOFF_MAX,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET"}),
        raise_on_status=True,
        respect_retry_after_header=False,
    )

    def keep(response, *args, **kwargs):
        if record is not None and response.status_code == 200:
            try:
                record.append({"url": response.url, "body": response.json()})
            except ValueError:  # not JSON: the caller says so
                pass

    class RetryingSession(requests.Session):
        def __init__(self):
            super().__init__()
            adapter = HTTPAdapter(max_retries=retry)
            self.mount("http://", adapter)
            self.mount("https://", adapter)
            self.headers["User-Agent"] = f"qcrobust/{__version__} (external pretraining corpus)"
            self.hooks["response"].append(keep)

    return RetryingSession


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _reason(exc: Exception, source: Source) -> str:
    """Why a request failed, in a few words (urllib3 hides the cause under ``reason``)."""
    import requests

    cause = exc.args[0] if exc.args else exc
    inner = getattr(cause, "reason", None) or cause
    if isinstance(exc, requests.exceptions.RetryError):
        return f"gave up after {source.retries + 1} tries ({_one_line(inner)})"
    if isinstance(exc, requests.exceptions.Timeout):
        return f"no answer within {source.timeout:g} s after {source.retries + 1} tries ({_one_line(inner)})"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return f"cannot connect after {source.retries + 1} tries ({_one_line(inner)})"
    return _one_line(f"{type(exc).__name__}: {exc}")


def _client_error(text: str, source: Source) -> str:
    """optimade's error strings without the request's URL: ``HTTP <status>: <title: detail>`` or
    why the retries gave up."""
    text = " ".join(text.split())
    status = re.search(r"\b(\d{3}) - \S+: (.*)", text)
    if status:
        return f"HTTP {status.group(1)}: {status.group(2)}"
    cause = re.search(r"\(Caused by (.*)\)$", text)
    if cause:
        return f"gave up after {source.retries + 1} tries ({cause.group(1)})"
    return text


def fetch_error(source: Source, query: Query, reason: str) -> InputError:
    """The one line said when the network or the provider fails."""
    return InputError(None, f"{source.provider} ({source.url})", f"query {query.text!r}: {_one_line(reason)}")


def aflux_url(source: Source, query: Query, page: int) -> str:
    base = source.url if source.url.endswith("?") else source.url.rstrip("/") + "/?"
    return f"{base}{query.text},{','.join(AFLUX_KEYWORDS)},paging({page},{source.page_size}),format(json)"


def aflux_entries(body) -> list[dict]:
    """The entries of one AFLUX page: a JSON list, or an object keyed ``"i of N"``."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict) and all(str(k).split(" of ")[0].strip().isdigit() for k in body):
        return [body[k] for k in sorted(body, key=lambda k: int(str(k).split(" of ")[0]))]
    raise ValueError(f"not a list of entries: {_one_line(json.dumps(body), 120)}")


def _aflux_pages(source: Source, query: Query, session) -> list[dict]:
    import requests

    pages, n_entries = [], 0
    for page in itertools.count(1):
        url = aflux_url(source, query, page)
        try:
            response = session.get(url, timeout=source.timeout)
        except requests.RequestException as exc:
            raise fetch_error(source, query, _reason(exc, source)) from None
        if response.status_code != 200:
            raise fetch_error(source, query, f"HTTP {response.status_code} ({_one_line(response.text, 160)})")
        try:
            body = response.json()
            entries = aflux_entries(body)
        except ValueError as exc:
            raise fetch_error(source, query, f"page {page}: not an AFLUX JSON answer: {_one_line(response.text or exc, 160)}") from None
        pages.append({"url": url, "body": body})
        n_entries += len(entries)
        log.info("%s: page %d, %d entries", query.text, page, len(entries))
        if len(entries) < source.page_size or n_entries >= source.max_entries:
            return pages
    raise AssertionError("unreachable")


def optimade_fields(source: Source) -> list[str]:
    return [
        "elements",
        "nelements",
        "chemical_formula_reduced",
        "dimension_types",
        "lattice_vectors",
        "cartesian_site_positions",
        "species_at_sites",
        "species",
        source.energy_field.split(".")[0],
    ]


def _optimade_pages(source: Source, query: Query) -> list[dict]:
    from optimade.client import OptimadeClient

    pages: list[dict] = []
    client = OptimadeClient(
        base_urls=[source.url],
        max_results_per_provider=source.max_entries,
        http_timeout=source.timeout,
        use_async=False,
        silent=True,
        http_client=http_session(source, pages),
    )
    # the client prints its errors to stderr even when silent: to the rule's log instead
    with contextlib.redirect_stderr(io.StringIO()) as printed, contextlib.redirect_stdout(printed):
        results = client.get_one(
            "structures", query.text, source.url, page_limit=source.page_size, response_fields=optimade_fields(source), paginate=True
        )[source.url]
    if printed.getvalue().strip():
        log.info("optimade client: %s", _one_line(printed.getvalue(), 1000))
    if results.errors:  # the client turns every failure into an error string
        raise fetch_error(source, query, "; ".join(_client_error(str(e), source) for e in results.errors))
    log.info("%s: %d pages, %d entries", query.text, len(pages), len(results.data))
    return pages


def fetch(source: Source, pairs: Sequence[tuple[str, str]]) -> dict:
    """Query every element set of ``pairs``; the responses document (see :func:`fetch_responses`)."""
    document = {
        "api": source.api,
        "provider": source.provider,
        "url": source.url,
        "energy_field": source.energy_field,
        "meaning": source.meaning,
        "pairs": [list(pair) for pair in pairs],
        "retrieved": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "queries": [],
    }
    session = http_session(source)() if source.api == "aflux" else None
    try:
        for query in queries(source, pairs):
            pages = _aflux_pages(source, query, session) if session is not None else _optimade_pages(source, query)
            document["queries"].append({"elements": list(query.elements), "query": query.text, "pages": pages})
    finally:
        if session is not None:
            session.close()
    return document


# --- conversion -----------------------------------------------------------------------------


def _numbers(value, what: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """A float array from a JSON array or an AFLOW string (``,`` between numbers, ``;`` between rows)."""
    if value is None:
        raise SkipEntry(f"{what} is null")
    try:
        if isinstance(value, str):
            rows = [row for row in value.split(";") if row.strip()]
            value = [[float(x) for x in row.split(",")] for row in rows]
            if shape is not None and len(shape) == 1:
                value = value[0] if len(value) == 1 else sum(value, [])
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise SkipEntry(f"{what} is not numeric") from None
    if not np.all(np.isfinite(array)):
        raise SkipEntry(f"{what} holds nulls or non-finite values")
    if shape is not None and (array.ndim != len(shape) or any(s not in (-1, n) for s, n in zip(shape, array.shape))):
        raise SkipEntry(f"{what} has shape {array.shape}")
    return array


def _label(value, what: str) -> float:
    if value is None:
        raise SkipEntry(f"{what} is null")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise SkipEntry(f"{what} is not a number") from None
    if not math.isfinite(value):
        raise SkipEntry(f"{what} is not finite")
    return value


def _symbols(value, what: str) -> list[str]:
    from ase.data import chemical_symbols

    if value is None:
        raise SkipEntry(f"{what} is null")
    names = [s.strip() for s in value.split(",")] if isinstance(value, str) else list(value)
    bad = [s for s in names if s not in chemical_symbols[1:]]
    if bad:
        raise SkipEntry(f"{what} holds {bad}, not elements")
    return names


def aflux_frame(entry: Mapping):
    """``(id, Atoms, label)`` of one AFLUX entry (relaxed geometry; see the module docstring)."""
    from ase import Atoms
    from ase.geometry import cellpar_to_cell

    entry_id = entry.get("auid") or entry.get("aurl")
    if not entry_id:
        raise SkipEntry("no auid")
    label = _label(entry.get(AFLUX_LABEL), AFLUX_LABEL)
    species = _symbols(entry.get("species"), "species")
    counts = _numbers(entry.get("composition"), "composition", (-1,)).astype(int)
    cellpar = _numbers(entry.get("geometry"), "geometry", (6,))
    positions = _numbers(entry.get("positions_fractional"), "positions_fractional", (-1, 3))
    if len(counts) != len(species) or counts.sum() != len(positions):
        raise SkipEntry(f"composition {counts.tolist()} of {species} does not match {len(positions)} positions")
    symbols = [s for s, n in zip(species, counts) for _ in range(n)]
    atoms = Atoms(symbols, scaled_positions=positions, cell=cellpar_to_cell(cellpar), pbc=True)
    return str(entry_id), atoms, label


def _dig(mapping: Mapping, dotted: str):
    value = mapping
    for key in dotted.split("."):
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value


def optimade_frame(entry: Mapping, energy_field: str):
    """``(id, Atoms, label)`` of one OPTIMADE structures entry."""
    from ase import Atoms

    entry_id = entry.get("id")
    attributes = entry.get("attributes") or {}
    if not entry_id:
        raise SkipEntry("no id")
    label = _label(_dig(attributes, energy_field), energy_field)
    dimensions = attributes.get("dimension_types")
    if dimensions is not None and list(dimensions) != [1, 1, 1]:
        raise SkipEntry(f"not periodic in 3 dimensions (dimension_types {dimensions})")
    cell = _numbers(attributes.get("lattice_vectors"), "lattice_vectors", (3, 3))
    positions = _numbers(attributes.get("cartesian_site_positions"), "cartesian_site_positions", (-1, 3))
    sites = attributes.get("species_at_sites")
    if not isinstance(sites, list) or len(sites) != len(positions):
        raise SkipEntry("species_at_sites is null or does not match the positions")
    element_of = {}
    for species in attributes.get("species") or []:
        symbols, concentration = species.get("chemical_symbols") or [], species.get("concentration") or [1.0]
        if len(symbols) == 1 and len(concentration) == 1 and float(concentration[0]) == 1.0:
            element_of[species.get("name")] = symbols[0]
    names = [element_of.get(site, site) for site in sites]
    symbols = _symbols(names, "species_at_sites (disordered, vacancy or unknown species)")
    return str(entry_id), Atoms(symbols, positions=positions, cell=cell, pbc=True), label


def page_entries(api: str, body) -> list:
    return aflux_entries(body) if api == "aflux" else list((body or {}).get("data") or [])


def convert(document: Mapping) -> tuple[list, list[dict], list[dict]]:
    """Frames (ASE ``Atoms`` with info ``id``, ``provider``, ``formula``, ``e_form``), the kept
    entries and the skipped ones (``id``, ``query``, ``reason``) of a responses document; an
    entry seen twice (two queries or pages) is kept once."""
    frames, kept, skipped, seen = [], [], [], set()
    for query in document["queries"]:
        for page in query["pages"]:
            for index, entry in enumerate(page_entries(document["api"], page["body"])):
                raw_id = (entry.get("auid") or entry.get("id")) if isinstance(entry, Mapping) else None
                try:
                    if not isinstance(entry, Mapping):
                        raise SkipEntry("not a JSON object")
                    if document["api"] == "aflux":
                        entry_id, atoms, label = aflux_frame(entry)
                    else:
                        entry_id, atoms, label = optimade_frame(entry, document["energy_field"])
                except SkipEntry as skip:
                    skipped.append({"id": str(raw_id or f"#{index} of {page['url']}"), "query": query["query"], "reason": str(skip)})
                    continue
                if entry_id in seen:
                    continue
                seen.add(entry_id)
                formula = atoms.get_chemical_formula(mode="metal")
                atoms.info = {"id": entry_id, "provider": document["provider"], "formula": formula, LABEL_KEY: label}
                frames.append(atoms)
                kept.append({"id": entry_id, "formula": formula, LABEL_KEY: label, "query": query["query"]})
    return frames, kept, skipped


# --- rules ----------------------------------------------------------------------------------


def study_pairs(elements: Sequence[str] | None, species_files: Iterable[str | Path]) -> list[tuple[str, str]]:
    """The host–dopant pairs, as the built-in corpus takes them (:func:`.corpus.pairs_from`)."""
    from qcrobust.allegro.corpus import pairs_from

    return pairs_from(elements, [json.loads(Path(p).read_text()) for p in species_files])


def fetch_responses(source: Mapping, elements: Sequence[str] | None, species_files: Iterable[str | Path], output: str | Path) -> dict:
    """Rule ``allegro_fetch``: query the provider for the study's pairs, write the responses
    (``api``, ``provider``, ``url``, ``energy_field``, ``pairs``, ``retrieved``, and per query its
    ``elements``, ``query`` text and ``pages``: ``url`` and ``body`` as received) to ``output``."""
    spec = Source.from_config(source)
    pairs = study_pairs(elements, species_files)
    log.info("fetching %s for the pairs %s", spec.describe(), pairs)
    document = fetch(spec, pairs)
    write_json(document, output)
    return document


def write_fetched_corpus(
    responses: str | Path, elements: Sequence[str] | None, species_files: Iterable[str | Path], corpus: str | Path, provenance: str | Path
) -> dict:
    """Rule ``allegro_fetched_corpus``: the cached responses as the corpus contract (extxyz
    frames with ``e_form``, eV/atom) and its provenance; returns the provenance."""
    document = json.loads(Path(responses).read_text())
    needed = {tuple(sorted(pair)) for pair in study_pairs(elements, species_files)}
    fetched = {tuple(sorted(pair)) for pair in document["pairs"]}
    missing = sorted(needed - fetched)
    if missing:
        raise InputError(
            responses,
            None,
            f"fetched for the pairs {sorted(fetched)}, the study now needs {missing} too: rerun with `--forcerun allegro_fetch`",
        )
    frames, kept, skipped = convert(document)
    n_entries = len(kept) + len(skipped)
    if not frames:
        reasons = sorted({s["reason"] for s in skipped})[:3]
        queries_text = "; ".join(q["query"] for q in document["queries"])
        raise InputError(
            responses,
            None,
            f"{document['provider']} returned no usable entry for {queries_text!r} "
            f"({n_entries} entries{', skipped: ' + '; '.join(reasons) if reasons else ''})",
        )
    labels = np.array([a.info[LABEL_KEY] for a in frames])
    from qcrobust.allegro.data import species

    facts = {
        "api": document["api"],
        "provider": document["provider"],
        "url": document["url"],
        "energy_field": document["energy_field"],
        "label": LABEL_KEY,
        "label_meaning": document.get("meaning", ""),
        "retrieved": document["retrieved"],
        "pairs": document["pairs"],
        "queries": [
            {
                "query": q["query"],
                "elements": q["elements"],
                "urls": [p["url"] for p in q["pages"]],
                "entries": sum(len(page_entries(document["api"], p["body"])) for p in q["pages"]),
            }
            for q in document["queries"]
        ],
        "n_frames": len(frames),
        "n_skipped": len(skipped),
        "elements": species(frames),
        "label_min": float(labels.min()),
        "label_max": float(labels.max()),
        "entries": kept,
        "skipped": skipped,
    }
    write_frames(frames, corpus)
    write_json(facts, provenance)
    log.info(
        "%s: %d frames of %s, %s from %.3f to %.3f eV/atom; %d entries skipped",
        document["provider"],
        len(frames),
        facts["elements"],
        LABEL_KEY,
        facts["label_min"],
        facts["label_max"],
        len(skipped),
    )
    for skip in skipped:
        log.info("skipped %s (%s): %s", skip["id"], skip["query"], skip["reason"])
    return facts
