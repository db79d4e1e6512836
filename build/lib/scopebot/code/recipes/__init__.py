"""Tested analysis recipes, one module per task.

Each module is a complete script: a docstring (title line, ``Keywords:`` line, description),
functions tested by ``tests/unit/test_recipes.py`` on synthetic images with known answers, and a
``__main__`` block that runs on the file named by the ``IMAGE_PATH`` global. The line
``from scopebot.code.recipes._io import ...  # scopebot:inline`` is replaced by the helper's
source when a recipe is handed to the sandbox, so every script stands alone.
"""
