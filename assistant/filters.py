"""Retrieval filters as the user set them: checked, described, and told apart from a gap in the corpus."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from litassist.index.bm25 import SearchFilter
from litassist.index.store import Store
from litassist.index.study import SPECIES, STUDY_TYPES, species_choice, study_type_choice

from litassist.assistant.errors import FilterError

KINDS = {"paper": "papers only", "figure": "figures only"}


def make_filter(kind: str | None = None, organism: str | None = None, year_min: int | None = None,
                year_max: int | None = None, study_type: str | None = None, species: str | None = None,
                collection: str | None = None, tag: str | None = None) -> SearchFilter:
    """A SearchFilter from the user's choices; a year range whose start is after its end is refused, and so is a
    study type or species outside the vocabulary (index/study.py)."""
    if year_min is not None and year_max is not None and year_min > year_max:
        raise FilterError(f"the year range {year_min}–{year_max} is reversed: the first year must not be after "
                          "the second")
    return SearchFilter(kind=kind if kind in KINDS else None, organism=organism or None, year_min=year_min,
                        year_max=year_max, study_type=checked_study_type(study_type), species=checked_species(species),
                        collection=collection or None, tag=tag or None)


def checked_study_type(value: str | None) -> str | None:
    """The study type as stored, None for none; FilterError naming the choices for anything else."""
    return _checked(value, study_type_choice, "study type", STUDY_TYPES)


def checked_species(value: str | None) -> str | None:
    """The species word as stored ('Mus musculus' and 'Mice' mean 'mouse'), None for none; FilterError otherwise."""
    return _checked(value, species_choice, "species", SPECIES)


def _checked(value: str | None, choice: Callable[[str], str | None], what: str, choices: Iterable[str]) -> str | None:
    """`choice(value)`, None for an empty value; FilterError naming the choices when it matches none."""
    if not (value or "").strip():
        return None
    if (found := choice(value)) is None:
        raise FilterError(f"unknown {what} “{value}”: choose one of {', '.join(choices)}")
    return found


def describe(where: SearchFilter) -> str:
    """'figures only · Mus musculus · review · mouse · 2013–2013' — the active filters in words ('' when none)."""
    parts = [KINDS.get(where.kind or "", ""), where.organism or "", where.study_type or "", where.species or "",
             f"collection “{where.collection}”" if where.collection else "", f"tag “{where.tag}”" if where.tag else ""]
    if where.year_min is not None or where.year_max is not None:
        low = str(where.year_min) if where.year_min is not None else "…"
        high = str(where.year_max) if where.year_max is not None else "…"
        parts.append(f"{low}–{high}")
    return " · ".join(p for p in parts if p)


def admits_nothing(store: Store, where: SearchFilter) -> bool:
    """The filters leave no indexed chunk to search (as opposed to the search finding no answer)."""
    return not where.empty and bool(store.bm25.ids) and not store.bm25.mask(where).any()


def nothing_matches(where: SearchFilter) -> str:
    """What to say when the filters exclude every source."""
    return f"No indexed source matches the filters ({describe(where)}). Widen or clear them and ask again."


def from_widgets(kind: str, organism: str | None, year_min: float | str | None, year_max: float | str | None,
                 study_type: str | None = None, species: str | None = None) -> SearchFilter:
    """The UI's filter widgets as a SearchFilter (an empty year box, or 0 from the API, means open)."""
    return make_filter(kind, organism, year_of(year_min, "From year"), year_of(year_max, "To year"), study_type,
                       species)


def year_of(value: float | str | None, label: str) -> int | None:
    """A year box's value: empty or 0 is no limit; anything but a whole number is refused."""
    text = str(value).strip() if value is not None else ""
    try:
        year = int(float(text)) if text else 0
    except ValueError:
        raise FilterError(f"“{label}” must be a year such as 2010, not “{text}”") from None
    return year or None
