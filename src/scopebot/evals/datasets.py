"""Versioned evaluation datasets: one pydantic model per dataset kind, a validating loader, schemas.

The shipped datasets live in ``evals/datasets/<kind>_v1.yaml``; users can bring their own in YAML,
JSON or JSONL (``scopebot eval <suite> --dataset PATH``). Every item is validated on load and all
problems are reported together, each with the file and the item id (or its index when the id is
missing), so a user can fix a 200-item file in one pass instead of one error at a time.

File layouts
------------
* YAML / JSON: a mapping ``{name, version, description, items: [...]}``.
* JSONL: one item per line; the first line may instead be a header object carrying ``name``,
  ``version`` and/or ``description`` (and no ``id``). Blank lines and lines starting with ``#`` are
  skipped. Without a header the name defaults to the file stem and the version to ``"0"``.

The JSON schemas in ``evals/schemas`` are generated from these models by :func:`write_schemas`; a unit
test checks that the files on disk match the models.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Generic, Literal, TypeVar, get_args

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from scopebot.errors import ConfigurationError
from scopebot.settings import PROJECT_ROOT

DatasetKind = Literal["retrieval", "answers", "routing", "tools"]
DATASET_KINDS: tuple[str, ...] = get_args(DatasetKind)

RouteLabel = Literal["question", "code", "tool", "forum", "chitchat", "out_of_scope"]
ROUTE_LABELS: tuple[str, ...] = get_args(RouteLabel)

#: Where the shipped datasets and their schemas live in a source checkout.
DATASETS_DIR = PROJECT_ROOT / "evals" / "datasets"
SCHEMAS_DIR = PROJECT_ROOT / "evals" / "schemas"


class DatasetError(ConfigurationError):
    """A dataset file is missing, unreadable or has invalid items (all problems listed)."""

    def __init__(self, message: str, *, path: str = "", problems: list[str] | None = None,
                 hint: str = "") -> None:
        self.path = path
        self.problems = problems or []
        body = message
        if self.problems:
            body += ":\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(body, hint=hint)


class _Strict(BaseModel):
    """Unknown keys are errors: a misspelt ``expeced`` must not silently become an empty list."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


NonBlank = Annotated[str, AfterValidator(_non_blank)]


# --------------------------------------------------------------------------------------------------
# Items
# --------------------------------------------------------------------------------------------------
class ExpectedSection(_Strict):
    """A section that answers a retrieval question."""

    source: NonBlank = Field(description="Source id from knowledge/sources.yaml, e.g. 'janelia-book'.")
    section: NonBlank = Field(description="Heading text of the answering section, exactly as in the source "
                                     "(no markdown '#', no '{#anchor}'); for registries the entry name.")


class RetrievalItem(_Strict):
    """A question whose answer lives in known sections; a hit is a retrieved chunk whose heading path
    contains one of the expected sections."""

    id: NonBlank = Field(description="Unique item id, e.g. 'ret-001'.")
    question: NonBlank = Field(description="The user question, in a user's own words.")
    expected: list[ExpectedSection] = Field(min_length=1,
                                            description="Sections that answer it (any one counts).")
    notes: str = Field(default="", description="Why these sections; free text.")


class AnswerItem(_Strict):
    """A question for the grounded-answer pipeline, answerable from the sources or deliberately not."""

    id: NonBlank = Field(description="Unique item id, e.g. 'ans-001'.")
    question: NonBlank = Field(description="The user question.")
    answerable: bool = Field(default=True, description="False when the sources cannot answer it; the "
                                                        "assistant should then say so instead of answering.")
    key_facts: list[list[str]] = Field(
        default_factory=list,
        description="Facts a good answer states; each fact is a list of keyword alternatives, any one "
                    "of which (case-insensitive substring) counts the fact as covered.")
    expected_sources: list[str] = Field(default_factory=list,
                                        description="Source ids the answer should cite.")
    reason: str = Field(default="", description="Why an unanswerable item cannot be answered.")
    notes: str = Field(default="", description="Free text.")

    @field_validator("key_facts", mode="before")
    @classmethod
    def _scalars_as_text(cls, facts: Any) -> Any:
        # YAML turns `[70, 80]` or `[false]` into numbers/booleans; keywords are always text.
        if not isinstance(facts, list):
            return facts
        def text(v: Any) -> Any:
            if isinstance(v, bool):
                return str(v).lower()
            return str(v) if isinstance(v, int | float) else v
        return [[text(v) for v in alts] if isinstance(alts, list) else alts for alts in facts]

    @field_validator("key_facts")
    @classmethod
    def _facts_have_alternatives(cls, facts: list[list[str]]) -> list[list[str]]:
        for i, alternatives in enumerate(facts):
            cleaned = [a.strip() for a in alternatives if a.strip()]
            if not cleaned:
                raise ValueError(f"fact {i} has no non-empty keyword alternative")
            facts[i] = cleaned
        return facts

    @model_validator(mode="after")
    def _consistent(self) -> AnswerItem:
        if self.answerable:
            if not self.key_facts:
                raise ValueError("an answerable item needs at least one key fact")
            if not self.expected_sources:
                raise ValueError("an answerable item needs expected_sources")
        else:
            if not self.reason:
                raise ValueError("an unanswerable item needs a 'reason'")
            if self.key_facts:
                raise ValueError("an unanswerable item must not have key_facts")
        return self


class HistoryTurn(_Strict):
    """An earlier user turn and the route it took; gives context to follow-up turns."""

    user: NonBlank = Field(description="The earlier user message.")
    route: RouteLabel = Field(description="The route that earlier message took.")


class RoutingItem(_Strict):
    """A user turn labelled with the route the agent should take."""

    id: NonBlank = Field(description="Unique item id, e.g. 'rt-001'.")
    text: NonBlank = Field(description="The user's message.")
    label: RouteLabel = Field(description="Expected route.")
    history: list[HistoryTurn] = Field(default_factory=list,
                                       description="Previous turns, oldest first (for follow-ups).")
    image: bool = Field(default=False, description="True when the turn is sent with an image attached.")
    notes: str = Field(default="", description="Why this label (useful for hard cases).")


class ToolItem(_Strict):
    """A tool-recommendation request; any of the acceptable tools in the top results counts."""

    id: NonBlank = Field(description="Unique item id, e.g. 'tool-001'.")
    request: NonBlank = Field(description="What the user wants to do, in their words.")
    interface: Literal["gui", "code", "any"] = Field(default="any",
                                                     description="Constraint on how the tool is used.")
    dims: Literal["2d", "3d", "any"] = Field(default="any", description="Dimensionality of the data.")
    acceptable: list[str] = Field(min_length=1,
                                  description="Index names (BIII title, Model Zoo name or awesome-list "
                                              "tool) that are genuinely appropriate answers.")
    notes: str = Field(default="", description="Free text.")


Item = RetrievalItem | AnswerItem | RoutingItem | ToolItem
ItemT = TypeVar("ItemT", RetrievalItem, AnswerItem, RoutingItem, ToolItem)

ITEM_MODELS: dict[str, type[BaseModel]] = {
    "retrieval": RetrievalItem,
    "answers": AnswerItem,
    "routing": RoutingItem,
    "tools": ToolItem,
}


class Dataset(_Strict, Generic[ItemT]):
    """A named, versioned list of items of one kind (the top-level keys of a dataset file)."""

    name: str = Field(description="Dataset name, e.g. 'retrieval'.")
    version: str = Field(description="Dataset version; bump it whenever items change.")
    description: str = Field(default="", description="What the dataset measures.")
    items: list[ItemT] = Field(description="The items.")

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        # YAML reads `version: 1` as an int; keep the file friendly and store text.
        return str(value) if isinstance(value, int | float) else value

    @property
    def ids(self) -> list[str]:
        return [item.id for item in self.items]


class RetrievalDataset(Dataset[RetrievalItem]):
    """Retrieval questions with the sections that answer them."""


class AnswerDataset(Dataset[AnswerItem]):
    """Answerable questions with key facts, and unanswerable ones."""


class RoutingDataset(Dataset[RoutingItem]):
    """Labelled user turns for the router."""


class ToolDataset(Dataset[ToolItem]):
    """Tool-recommendation requests with acceptable tools."""


DATASET_MODELS: dict[str, type[Dataset[Any]]] = {
    "retrieval": RetrievalDataset,
    "answers": AnswerDataset,
    "routing": RoutingDataset,
    "tools": ToolDataset,
}


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------
def default_dataset_path(kind: str, version: int = 1) -> Path:
    """The shipped dataset of ``kind`` (``evals/datasets/<kind>_v<version>.yaml``)."""
    _check_kind(kind)
    return DATASETS_DIR / f"{kind}_v{version}.yaml"


def _check_kind(kind: str) -> None:
    if kind not in DATASET_KINDS:
        raise ConfigurationError(f"Unknown dataset kind {kind!r}",
                                 hint=f"use one of: {', '.join(DATASET_KINDS)}")


def _read_mapping_file(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise DatasetError(f"Cannot parse dataset file {path}: {exc}", path=str(path),
                           hint="check the file's YAML/JSON syntax (indentation, quotes, colons)") from exc
    if isinstance(data, list):  # a bare list of items is accepted too
        data = {"items": data}
    if not isinstance(data, dict):
        raise DatasetError(f"Dataset file {path} must contain a mapping with an 'items' list",
                           path=str(path), hint="top-level keys: name, version, description, items")
    return data


def _read_jsonl(path: Path) -> dict[str, Any]:
    header: dict[str, Any] = {}
    items: list[Any] = []
    problems: list[str] = []
    first = True
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            obj = json.loads(stripped)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{lineno}: invalid JSON ({exc.msg})")
            first = False
            continue
        if first and isinstance(obj, dict) and "id" not in obj and \
                set(obj) & {"name", "version", "description"} and \
                set(obj) <= {"name", "version", "description", "kind"}:
            header = obj
        else:
            items.append(obj)
        first = False
    if problems:
        raise DatasetError(f"Invalid JSONL dataset {path}", path=str(path), problems=problems,
                           hint="each non-empty line must be one JSON object")
    header.pop("kind", None)
    return {**header, "items": items}


def _format_error(path: Path, where: str, err: dict[str, Any]) -> str:
    loc = ".".join(str(part) for part in err.get("loc", ()) if part != "__root__")
    return f"{path}: {where}" + (f" field '{loc}'" if loc else "") + f": {err.get('msg', 'invalid')}"


def _item_label(raw: Any, index: int) -> str:
    if isinstance(raw, dict) and isinstance(raw.get("id"), str) and raw["id"].strip():
        return f"item '{raw['id'].strip()}' (#{index})"
    return f"item #{index}"


def validate_items(raw_items: Iterable[Any], kind: str, path: Path) -> tuple[list[BaseModel], list[str]]:
    """Validate raw item dicts one by one; return the good items and a problem line per error."""
    model = ITEM_MODELS[kind]
    items: list[BaseModel] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_items):
        label = _item_label(raw, index)
        try:
            item = model.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_format_error(path, label, e) for e in exc.errors())
            continue
        item_id = item.id  # type: ignore[attr-defined]
        if item_id in seen:
            problems.append(f"{path}: {label}: duplicate id (first used by item #{seen[item_id]})")
        else:
            seen[item_id] = index
        items.append(item)
    return items, problems


def load_dataset(path: str | Path, kind: str) -> Dataset[Any]:
    """Load and validate a dataset file of ``kind`` (YAML, JSON or JSONL).

    Raises :class:`DatasetError` listing every invalid item (file + item id/index + field + reason).
    """
    _check_kind(kind)
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"Dataset file not found: {path}", path=str(path),
                           hint="pass an existing YAML/JSON/JSONL file with --dataset PATH")
    data = _read_jsonl(path) if path.suffix.lower() == ".jsonl" else _read_mapping_file(path)
    raw_items = data.get("items")
    if not isinstance(raw_items, list):
        raise DatasetError(f"Dataset file {path} has no 'items' list", path=str(path),
                           hint="put the items under a top-level 'items:' key")
    items, problems = validate_items(raw_items, kind, path)
    header = {k: v for k, v in data.items() if k != "items"}
    header.setdefault("name", path.stem)
    header.setdefault("version", "0")
    try:
        dataset = DATASET_MODELS[kind].model_validate({**header, "items": []})
    except ValidationError as exc:
        problems[:0] = [_format_error(path, "header", e) for e in exc.errors()]
        dataset = None
    if problems or dataset is None:
        raise DatasetError(f"Invalid {kind} dataset {path} ({len(problems)} problem(s))", path=str(path),
                           problems=problems,
                           hint=f"fix the listed items; the expected fields are in "
                                f"evals/schemas/{kind}.schema.json")
    dataset.items = items
    if not items:
        raise DatasetError(f"Dataset {path} has no items", path=str(path),
                           hint="add at least one item under 'items'")
    return dataset


# --------------------------------------------------------------------------------------------------
# Schemas
# --------------------------------------------------------------------------------------------------
def dataset_schema(kind: str) -> dict[str, Any]:
    """JSON schema of a whole dataset file of ``kind``."""
    _check_kind(kind)
    schema = DATASET_MODELS[kind].model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://scopebot.local/schemas/{kind}.schema.json"
    return schema


def write_schemas(directory: str | Path = SCHEMAS_DIR) -> list[Path]:
    """Write ``<kind>.schema.json`` for every dataset kind into ``directory``; return the paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in DATASET_KINDS:
        target = directory / f"{kind}.schema.json"
        target.write_text(json.dumps(dataset_schema(kind), indent=2, sort_keys=True) + "\n",
                          encoding="utf-8")
        written.append(target)
    return written
