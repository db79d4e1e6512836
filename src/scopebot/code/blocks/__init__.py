"""Tested analysis blocks: one function per plan step.

Each block is a plain, self-contained function (its imports inside it) so that the compiler
(:mod:`scopebot.code.compile`) can copy its source into a readable stand-alone script. The
same functions are imported by the unit tests, which run them on synthetic images with known
answers (``tests/unit/test_plan_blocks.py``).
"""
