"""The score of a tool record for a request, part by part, and the weights of the parts.

Score of a record (weights in :class:`RankingWeights`; parts in [0, 1] unless noted)::

    score =  w_retrieval  * R   best rank of the record's chunks in two retriever searches over the
                                registry + model-zoo chunks (the request, and the request expanded
                                with its EDAM operations/objects/topics): 1 / (1 + (rank-1)/8)
           + w_lexical    * L   IDF-weighted share of the request's content words (stemmed, British
                                spellings normalised) found in name, description, tags, EDAM terms
           + w_name_words * NW  the same share counted in the record's name only
           + w_task       * T   per requested task: 1 if the record's EDAM operations contain the task's
                                main operation, 0.8 a related one, 0.7 if only the task's words appear;
                                averaged over the tasks
           + w_object     * O   share of requested objects (nuclei, cells...) the record mentions
           + w_modality   * M   share of modalities matched (EDAM topic 1, words 0.8)
           + w_dims       * D   3D asked: 1 if the record states 3D, -0.5 if only 2D (2D asked: 0.5/-0.5)
           + w_interface  * I   1 matching interface, -1 known mismatch; with --interface a mismatch
                                is dropped instead (unknown interfaces stay, unboosted)
           + w_platform   * P   1 when a host the user named (Fiji, napari...) hosts the record
           + w_open       * S   open source asked: 1 open licence, -1 stated proprietary
           + w_deep       * DL  deep learning asked: 1 Zoo models, 0.7 tools described as deep learning
           + w_name       * N   the request names the tool (0.3 when it only names it as the host)
           + w_quality    * Q   richness: description, EDAM operations, links, licence (share of 4)
           + w_prior      * Pr  established tools: 0.4 per extra registry listing it (0.3 if only in
                                the curated awesome list) + log-scaled counts of records requiring it
                                and of book/training passages naming it (capped at 1)
           - w_invalid    * V   Model Zoo entry failed validation (still listed, marked)
           - w_dataset    * X   Zoo datasets when the user did not ask for data

The weights were set by hand and checked on ``evals/datasets/tools_v1.yaml`` with a coarse sweep of the
lexical and prior weights only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RankingWeights:
    """Weights of the score parts (see the module docstring)."""

    retrieval: float = 0.25
    lexical: float = 0.30
    name_words: float = 0.12
    task: float = 0.30
    object: float = 0.10
    modality: float = 0.07
    dims: float = 0.07
    interface: float = 0.10
    platform: float = 0.10
    open: float = 0.05
    deep: float = 0.06
    name: float = 0.40
    quality: float = 0.05
    prior: float = 0.12
    invalid: float = 0.10
    dataset: float = 0.25
    floor: float = 0.20
