"""LangChain adapter: scopebot's index as a ``BaseRetriever`` for LangChain apps."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict


class ScopebotRetriever(BaseRetriever):
    """Returns scopebot passages as LangChain ``Document``s with citation metadata."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    kb: Any
    k: int = 5
    kinds: list[str] | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        docs = []
        for r in self.kb.search(query, k=self.k, kinds=self.kinds):
            c = r.chunk
            docs.append(Document(page_content=c.text, id=c.key, metadata={
                "key": c.key, "source": c.source_id, "kind": c.kind, "title": c.title, "section": c.section,
                "breadcrumb": c.breadcrumb, "url": c.url, "score": r.score, "dense_score": r.dense_score,
                "lexical_score": r.lexical_score}))
        return docs
