"""Comparison sides are found in passages as whole names, plurals included, never as substrings."""

from __future__ import annotations

from scopebot.answer.evidence import names_side


def test_a_side_is_named_by_its_plural_but_not_by_a_longer_word() -> None:
    assert names_side("Generative Adversarial Networks (GANs) consist of two networks.", "GAN")
    assert names_side("Autoencoders map images to a small code.", "autoencoder")
    assert not names_side("CellSeg and Cellposer are other tools.", "Cellpose")
    assert not names_side("Cell segmentation splits images.", "CellSeg")
