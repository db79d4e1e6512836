"""The hybrid index: chunking, embeddings, Chroma vector store, BM25 and fusion."""
