"""Static checks on generated code, before it is run.

* the code parses;
* every import exists in the sandbox's environment (the same Python as scopebot's);
* every called module attribute exists (``skimage.filters.threshold_otsu`` yes,
  ``skimage.filters.threshold_magic`` flagged) — resolved by importing, but only for an allowlist
  of well-behaved scientific packages; anything else is "unverifiable", never imported;
* forbidden calls and imports (processes, network, native code, deleting trees) are flagged.

:func:`resolve_dotted_name` is shared with the answer pipeline's hallucination checker.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field

#: Top-level packages that may be imported in this process to resolve attributes.
RESOLVABLE_PACKAGES = frozenset({
    "numpy", "scipy", "skimage", "pandas", "matplotlib", "tifffile", "PIL", "imageio", "math",
    "statistics", "json", "csv", "pathlib", "collections", "itertools", "functools", "re", "os", "glob",
    "random", "time", "datetime", "string", "textwrap", "dataclasses", "typing", "numbers", "operator",
})

#: Modules whose import alone is forbidden in the sandbox.
FORBIDDEN_MODULES = frozenset({"subprocess", "socket", "ctypes", "requests", "urllib.request", "http.client",
                               "httpx", "multiprocessing", "pty", "shutil.rmtree", "ftplib", "smtplib",
                               "telnetlib", "_posixsubprocess", "cffi", "paramiko"})

#: Fully qualified calls that are forbidden (prefix match on dotted names).
FORBIDDEN_CALLS = ("os.system", "os.popen", "os.exec", "os.spawn", "os.fork", "os.kill", "os.killpg",
                   "os.remove", "os.unlink", "os.rmdir", "os.removedirs", "os.chmod", "os.chown",
                   "os.setuid", "os.symlink", "shutil.rmtree", "subprocess.", "socket.", "ctypes.",
                   "urllib.request.", "requests.", "http.client.", "sys.addaudithook", "signal.signal",
                   "resource.setrlimit", "importlib.import_module", "gc.get_objects", "gc.get_referrers")
_PREFIX_CALLS = ("os.exec", "os.spawn")  # os.execv, os.spawnl, ...
FORBIDDEN_BUILTINS = frozenset({"eval", "exec", "__import__", "compile", "breakpoint", "input"})

IssueKind = Literal["syntax", "unknown_import", "unknown_attribute", "forbidden", "absolute_path"]


class CheckIssue(BaseModel):
    """One problem found in the code."""

    kind: IssueKind
    name: str = ""
    line: int | None = None
    message: str


class CodeCheckReport(BaseModel):
    """Result of :func:`check_code`; ``ok`` when nothing blocks running the code."""

    ok: bool
    issues: list[CheckIssue] = Field(default_factory=list)
    imports: list[str] = Field(default_factory=list)
    verified_calls: list[str] = Field(default_factory=list, description="Dotted names that resolved.")
    unverifiable: list[str] = Field(default_factory=list, description="Names in packages not introspected.")

    def by_kind(self, kind: IssueKind) -> list[CheckIssue]:
        return [i for i in self.issues if i.kind == kind]

    def to_text(self) -> str:
        """Human/LLM readable list of the problems (used in repair prompts)."""
        if not self.issues:
            return "No problems found."
        return "\n".join(f"- line {i.line}: {i.message}" if i.line else f"- {i.message}" for i in self.issues)


def module_exists(name: str) -> bool:
    """Whether ``name`` can be imported here, without importing outside the allowlist."""
    top = name.split(".")[0]
    if top in sys.stdlib_module_names or top in sys.builtin_module_names:
        if "." not in name:
            return True
    if top not in RESOLVABLE_PACKAGES:
        try:
            return importlib.util.find_spec(top) is not None if "." not in name else _find_spec(name)
        except (ImportError, ValueError):
            return False
    return _find_spec(name)


def _find_spec(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError, AttributeError):
        return False


@lru_cache(maxsize=4096)
def name_status(name: str) -> Literal["exists", "missing", "unverifiable"]:
    """Whether the dotted name exists: ``exists``, ``missing`` or ``unverifiable`` (not introspected)."""
    parts = [p for p in name.split(".") if p]
    if not parts or not all(p.isidentifier() for p in parts):
        return "missing"
    if parts[0] not in RESOLVABLE_PACKAGES:
        return "exists" if (len(parts) == 1 and module_exists(parts[0])) else (
            "unverifiable" if module_exists(parts[0]) else "missing")
    obj: object = None
    index = 0
    for i in range(len(parts), 0, -1):  # the longest importable module prefix
        modname = ".".join(parts[:i])
        try:
            obj = importlib.import_module(modname)
        except ImportError:
            continue
        except Exception:  # noqa: BLE001 - a package that breaks on import cannot be verified
            return "unverifiable"
        index = i
        break
    if obj is None:
        return "missing"
    for attr in parts[index:]:
        try:
            obj = getattr(obj, attr)
        except AttributeError:
            return "missing"
        except Exception:  # noqa: BLE001 - lazy loaders may fail in odd ways
            return "unverifiable"
    return "exists"


def resolve_dotted_name(name: str) -> bool:
    """True when ``name`` (e.g. ``skimage.filters.threshold_otsu``) exists in the sandbox environment."""
    return name_status(name) == "exists"


def _dotted(node: ast.AST) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _forbidden(name: str) -> bool:
    """Whether a fully qualified call name is on the forbidden list."""
    for entry in FORBIDDEN_CALLS:
        if entry.endswith(".") or entry in _PREFIX_CALLS:
            if name.startswith(entry):
                return True
        elif name == entry or name.startswith(entry + "."):
            return True
    return False


def check_code(code: str) -> CodeCheckReport:
    """Run every static check on ``code``; never executes it."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        issue = CheckIssue(kind="syntax", line=exc.lineno, name="",
                           message=f"SyntaxError: {exc.msg} (line {exc.lineno})")
        return CodeCheckReport(ok=False, issues=[issue])
    issues: list[CheckIssue] = []
    aliases: dict[str, str] = {}
    imports: list[str] = []
    verified: list[str] = []
    unverifiable: list[str] = []

    def check_module(mod: str, line: int) -> bool:
        imports.append(mod)
        if mod in FORBIDDEN_MODULES or mod.split(".")[0] in FORBIDDEN_MODULES:
            issues.append(CheckIssue(kind="forbidden", name=mod, line=line,
                                     message=f"import of '{mod}' is not allowed in the sandbox"))
            return False
        if not module_exists(mod):
            issues.append(CheckIssue(kind="unknown_import", name=mod, line=line,
                                     message=f"module '{mod}' is not installed in the sandbox"))
            return False
        return True

    def check_name(full: str, line: int, what: str) -> None:
        status = name_status(full)
        if status == "exists":
            verified.append(full)
        elif status == "unverifiable":
            unverifiable.append(full)
        else:
            issues.append(CheckIssue(kind="unknown_attribute", name=full, line=line,
                                     message=f"'{full}' does not exist ({what})"))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if check_module(alias.name, node.lineno):
                    if alias.asname:
                        aliases[alias.asname] = alias.name
                    else:
                        aliases[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if check_module(node.module, node.lineno):
                for alias in node.names:
                    if alias.name == "*":
                        continue
                    full = f"{node.module}.{alias.name}"
                    if _forbidden(full):
                        issues.append(CheckIssue(kind="forbidden", name=full, line=node.lineno,
                                                 message=f"'{full}' is not allowed in the sandbox"))
                        continue
                    check_name(full, node.lineno, "imported name")
                    aliases[alias.asname or alias.name] = full
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if (isinstance(func, ast.Name) and func.id == "open" and node.args
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
                    and node.args[0].value.startswith("/")):
                issues.append(CheckIssue(kind="absolute_path", name=node.args[0].value, line=node.lineno,
                                         message=f"opening the absolute path '{node.args[0].value}': only files "
                                                 "in the working directory are available"))
            if isinstance(func, ast.Name) and func.id in FORBIDDEN_BUILTINS:
                issues.append(CheckIssue(kind="forbidden", name=func.id, line=node.lineno,
                                         message=f"calling '{func.id}' is not allowed in generated code"))
                continue
            dotted = _dotted(func)
            if not dotted or "." not in dotted:
                if dotted in aliases and _forbidden(aliases[dotted]):
                    issues.append(CheckIssue(kind="forbidden", name=aliases[dotted], line=node.lineno,
                                             message=f"calling '{aliases[dotted]}' is not allowed"))
                continue
            head, _, rest = dotted.partition(".")
            if head not in aliases:
                continue  # a method on a local variable: cannot be checked statically
            full = f"{aliases[head]}.{rest}"
            if _forbidden(full):
                issues.append(CheckIssue(kind="forbidden", name=full, line=node.lineno,
                                         message=f"calling '{full}' is not allowed in the sandbox"))
                continue
            check_name(full, node.lineno, "called function")
    return CodeCheckReport(ok=not issues, issues=issues, imports=sorted(set(imports)),
                           verified_calls=sorted(set(verified)), unverifiable=sorted(set(unverifiable)))
