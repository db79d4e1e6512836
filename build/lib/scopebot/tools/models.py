"""Records of the tool-recommendation area: catalog entries, parsed requests and recommendations.

They are pydantic models so the CLI's ``--json`` output, the UI cards and the eval reports all
serialise the same objects.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Interface = Literal["gui", "code", "any"]
Dims = Literal["2d", "3d", "any"]

#: Interfaces of a record that a user who wants a point-and-click tool can use.
GUI_INTERFACES = frozenset({"gui", "plugin", "web"})
#: Interfaces of a record that a user who wants to write code can use.
CODE_INTERFACES = frozenset({"library", "script"})


class ModelInputs(BaseModel):
    """What a Model Zoo model expects, as far as its resource description tells."""

    axes: list[str] = Field(default_factory=list, description="Axes of each input tensor, e.g. 'bcyx'.")
    modality: list[str] = Field(default_factory=list, description="Imaging modality (from tags).")
    dims: list[str] = Field(default_factory=list, description="'2d' and/or '3d' (from tags or axes).")
    test_images: list[str] = Field(default_factory=list,
                                   description="Test inputs or cover images named in the description.")
    note: str = Field(default="", description="What could not be read (e.g. not in the catalog snapshot).")


class ToolRecord(BaseModel):
    """One distinct tool, model, dataset or application, merged across the registries."""

    id: str = Field(description="Normalised identity (normalised name, or 'bmz:<id>' for Zoo resources).")
    name: str
    kind: str = Field(default="tool", description="'tool', or the Model Zoo resource type.")
    sources: list[str] = Field(default_factory=list, description="Source ids the record came from.")
    description: str = ""
    edam_operations: list[str] = Field(default_factory=list)
    edam_topics: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    license: str = ""
    interface: str = Field(default="", description="gui, library, plugin, script, web, model or ''.")
    platform: str = Field(default="", description="Host application of a plugin (Fiji, napari, ...).")
    tool_type: str = ""
    category: str = Field(default="", description="Awesome-list category.")
    requires: list[str] = Field(default_factory=list)
    links: dict[str, str] = Field(default_factory=dict, description="biii, homepage, bioimage.io, ...")
    urls: list[str] = Field(default_factory=list, description="Every other link found.")
    publications: list[str] = Field(default_factory=list)
    authors: list[str] = Field(default_factory=list)
    chunk_keys: list[str] = Field(default_factory=list, description="Index chunks describing the record.")
    dims: list[str] = Field(default_factory=list, description="'2d'/'3d' support stated in the record.")
    # Model Zoo only
    bioimageio_id: str = ""
    validation: str = Field(default="", description="'valid' or 'invalid: <reason>' (Model Zoo).")
    validation_scope: str = Field(default="", description="What the validation could check offline.")
    status: str = ""
    inputs: ModelInputs | None = None
    run_with: list[str] = Field(default_factory=list, description="Tools that can run the model.")

    @property
    def is_model_zoo(self) -> bool:
        return "bioimage-model-zoo" in self.sources or bool(self.bioimageio_id)

    @property
    def invalid(self) -> bool:
        return self.validation.startswith("invalid")

    def search_text(self) -> str:
        """Everything matchable about the record, lower-cased."""
        parts = [self.name, self.description, " ".join(self.tags), " ".join(self.edam_operations),
                 " ".join(self.edam_topics), self.platform, self.category, self.tool_type,
                 " ".join(self.requires)]
        return " ".join(p for p in parts if p).lower()


class ParsedRequest(BaseModel):
    """What the rule-based parser understood of a request."""

    text: str
    tasks: list[str] = Field(default_factory=list, description="Canonical tasks, e.g. 'segmentation'.")
    operations: list[str] = Field(default_factory=list, description="EDAM operation labels of the tasks.")
    objects: list[str] = Field(default_factory=list, description="Objects, e.g. 'nuclei'.")
    modalities: list[str] = Field(default_factory=list, description="Modalities, e.g. 'fluorescence'.")
    topics: list[str] = Field(default_factory=list, description="EDAM topic labels of the modalities.")
    dims: Dims = "any"
    interface: Interface = "any"
    platforms: list[str] = Field(default_factory=list, description="Host applications named by the user.")
    open_source: bool = False
    deep_learning: bool = False
    keywords: list[str] = Field(default_factory=list, description="Content words of the request.")
    understood: list[str] = Field(default_factory=list, description="Words the lexicon recognised.")


class Citation(BaseModel):
    """A book or training passage that discusses a recommended tool."""

    key: str
    title: str
    section: str = ""
    url: str = ""
    source: str = ""


class ToolResult(BaseModel):
    """One ranked recommendation."""

    name: str
    kind: str
    score: float
    why: list[str] = Field(default_factory=list)
    interface: str = ""
    platform: str = ""
    license: str = ""
    links: dict[str, str] = Field(default_factory=dict)
    citations: list[Citation] = Field(default_factory=list)
    description: str = ""
    sources: list[str] = Field(default_factory=list)
    validation: str = ""
    inputs: ModelInputs | None = None
    run_with: list[str] = Field(default_factory=list)
    components: dict[str, float] = Field(default_factory=dict, description="Score parts (see recommend.py).")

    def to_json(self) -> dict[str, Any]:
        data = self.model_dump(exclude_none=True)
        data["score"] = round(self.score, 4)
        data["citations"] = [c.model_dump() for c in self.citations]
        data["components"] = {k: round(v, 4) for k, v in self.components.items()}
        return data


class Recommendation(BaseModel):
    """The answer to one request: ranked results, or an honest 'nothing fits' with the nearest."""

    query: str
    parsed: ParsedRequest
    results: list[ToolResult] = Field(default_factory=list)
    nothing_fits: bool = False
    nearest: list[ToolResult] = Field(default_factory=list)
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` schema: ``{"query", "results": [...]}`` plus the extra fields."""
        return {"query": self.query,
                "results": [r.to_json() for r in self.results],
                "nothing_fits": self.nothing_fits,
                "nearest": [r.to_json() for r in self.nearest],
                "message": self.message,
                "parsed": self.parsed.model_dump()}
