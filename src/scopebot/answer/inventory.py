"""Name inventories: which functions, classes, modules and models of the ecosystem's main libraries exist.

Names are facts, not text. The JSON files in ``data/names/`` are built by :func:`build_from_wheel` from
the published wheels (napari, Cellpose, StarDist, CSBDeep, CellProfiler) by walking their Python
source with :mod:`ast`: public class, function and method names, module paths, CellProfiler module
classes, and registered pretrained model names. Nothing is imported or executed. The ImageJ macro
language has no Python package; ``imagej_macro.json`` lists its built-in function names, written by
us. Rebuild::

    pip download --no-deps -d /tmp/wheels napari cellpose stardist csbdeep cellprofiler
    python -m scopebot.answer.inventory /tmp/wheels
"""

from __future__ import annotations

import ast
import json
import re
import sys
import zipfile
from functools import lru_cache
from pathlib import Path

NAMES_DIR = Path(__file__).resolve().parent.parent / "data" / "names"
PACKAGES = ("napari", "cellpose", "stardist", "csbdeep", "cellprofiler")
_MODEL_NAME_RE = re.compile(r"^[23]D_[A-Za-z0-9_]+$")


def build_from_wheel(wheel: Path, package: str) -> dict[str, object]:
    """Public names, module paths and pretrained model names of ``package`` found in ``wheel``."""
    names: set[str] = set()
    modules: set[str] = set()
    models: set[str] = set()
    cp_modules: set[str] = set()
    with zipfile.ZipFile(wheel) as z:
        for path in z.namelist():
            if not path.endswith(".py") or not path.startswith(f"{package}/") or "/tests/" in path \
                    or "/_tests/" in path:
                continue
            mod = path[:-3].replace("/", ".").removesuffix(".__init__")
            if not any(part.startswith("_") for part in mod.split(".")):
                modules.add(mod)
            try:
                tree = ast.parse(z.read(path).decode("utf-8", "replace"))
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and \
                        not node.name.startswith("_"):
                    names.add(node.name)
                    if isinstance(node, ast.ClassDef) and path.startswith("cellprofiler/modules/"):
                        cp_modules.add(node.name)
                elif isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                        _MODEL_NAME_RE.match(node.value):
                    models.add(node.value)
                elif isinstance(node, ast.For) and isinstance(node.iter, ast.Tuple) and package == "napari":
                    # viewer.add_labels & co. are made in a loop over the layer classes
                    for elt in node.iter.elts:
                        if isinstance(elt, ast.Attribute) and isinstance(elt.value, ast.Name) and \
                                elt.value.id == "layers":
                            names.add(f"add_{elt.attr.lower()}")
                elif isinstance(node, ast.Assign):
                    for t in node.targets:
                        if isinstance(t, ast.Name) and not t.id.startswith("_"):
                            names.add(t.id)
    version = wheel.name.split("-")[1] if wheel.name.count("-") >= 2 else ""
    out: dict[str, object] = {"package": package, "version": version, "source": f"built from {wheel.name}",
                              "modules": sorted(modules), "names": sorted(names)}
    if models:
        out["pretrained_models"] = sorted(models)
    if cp_modules:
        out["pipeline_modules"] = sorted(cp_modules)
    return out


def build_all(wheel_dir: Path, out_dir: Path = NAMES_DIR) -> list[Path]:
    """Build one JSON inventory per package whose wheel is in ``wheel_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for package in PACKAGES:
        wheels = sorted(wheel_dir.glob(f"{package}-*.whl"))
        if not wheels:
            continue
        data = build_from_wheel(wheels[-1], package)
        target = out_dir / f"{package}.json"
        target.write_text(json.dumps(data, indent=0, sort_keys=True) + "\n", encoding="utf-8")
        written.append(target)
    return written


class Inventory:
    """Every name of the shipped inventories, for whole-name lookups."""

    def __init__(self, files: list[Path] | None = None) -> None:
        files = files if files is not None else sorted(NAMES_DIR.glob("*.json"))
        self.names: set[str] = set()
        self.modules: set[str] = set()
        self.pipeline_modules: set[str] = set()
        self.macro_functions: set[str] = set()
        self.packages: set[str] = set()
        for f in files:
            data = json.loads(f.read_text(encoding="utf-8"))
            self.packages.add(str(data.get("package", f.stem)))
            self.names.update(data.get("names", []))
            self.names.update(data.get("pretrained_models", []))
            self.modules.update(data.get("modules", []))
            self.pipeline_modules.update(data.get("pipeline_modules", []))
            self.macro_functions.update(data.get("macro_functions", []))
        self.lower = {n.lower() for n in self.names | self.pipeline_modules}

    def knows(self, name: str) -> bool:
        """Whether ``name`` (``viewer.add_labels``, ``Roi.getBounds``, ``IdentifyPrimaryObjects``) exists.

        A dotted name is known when it is a module path, an ImageJ macro function, or when its last
        part is a public name of one of the libraries.
        """
        name = name.strip().rstrip("()").strip()
        if not name:
            return False
        if name in self.modules or name in self.macro_functions or name in self.pipeline_modules:
            return True
        return name.split(".")[-1] in self.names

    def owns(self, name: str) -> bool:
        """Whether ``name`` looks like it belongs to a library the inventories cover (so a miss means invented)."""
        root = name.split(".")[0]
        return root in self.packages or root in {"viewer", "layer", "layers", "model", "models"} or \
            root in {f.split(".")[0] for f in self.macro_functions if "." in f}


@lru_cache(maxsize=1)
def default_inventory() -> Inventory:
    return Inventory()


if __name__ == "__main__":  # pragma: no cover - maintenance command
    for p in build_all(Path(sys.argv[1])):
        print(p)
