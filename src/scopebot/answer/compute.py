"""Numbers computed when the question asks for one (issue 16): Nyquist pixel size (from NA and
wavelength, or from the size of the smallest feature), parameter counts, PSNR from an MSE, IoU and Dice
from mask areas, precision, recall and F1 from detection counts, unit conversions.

:func:`plan` reads the quantities from the question and names the formula it needs; the formula
must be found in a retrieved passage (:func:`find_formula_passage`), which the computed line cites.
The arithmetic is an expression of numbers only, evaluated by a :class:`Calculator`:
:class:`SandboxCalculator` runs it in scopebot's process sandbox (``Sandbox.run``); when the sandbox
refuses (no kernel boundary, code execution off) it falls back to :class:`SafeCalculator`, an
evaluator of ``+ - * / **`` and ``log10`` over numbers written here (no ``eval``), and the answer says so.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Sequence
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

ComputeKind = Literal["nyquist", "nyquist_size", "conv_params", "psnr", "overlap", "detection", "unit"]

_NA_RE = re.compile(r"(?:\bNA\b|numerical aperture)\s*(?:of|=|:)?\s*(\d(?:\.\d+)?)|(\d(?:\.\d+)?)\s*-?\s*NA\b",
                    re.IGNORECASE)
_WAVE_RE = re.compile(r"(\d{3})\s*(?:nm|nanomet)", re.IGNORECASE)
_KERNEL_RE = re.compile(r"(\d+)\s*(?:x|×|by)\s*(\d+)(?:\s*(?:x|×|by)\s*(\d+))?", re.IGNORECASE)
_CHANNELS_RE = re.compile(r"(?:from|maps?|mapping|with)?\s*(\d+)\s*(?:input\s*)?(?:channels?\s*)?(?:to|->|into)\s*"
                          r"(\d+)\s*(?:output\s*)?channels?", re.IGNORECASE)
#: "a 4-channel image to 8 feature maps", "from 3 to 16 filters": channels named by what they hold
_MAPS_RE = re.compile(r"(\d+)\s*-?\s*(?:input\s*)?(?:channels?|feature\s*maps?)?\b[^.?!\d]{0,25}?\b(?:to|into|->)\s*"
                      r"(\d+)\s*(?:output\s*)?(?:channels?|feature\s*maps?|filters?|kernels?)\b", re.IGNORECASE)
#: The size of the smallest thing to resolve ("structures about 600 nm across"), for Nyquist without an NA
_FEATURE_RE = re.compile(r"(?:structures?|features?|details?|objects?|particles?|things?)\b[^.?!\d]{0,30}?"
                         r"(\d+(?:\.\d+)?)\s*(nm|µm|μm|um|nanomet\w*|micromet\w*|microns?)\b", re.IGNORECASE)
#: "a mean squared error of 0.01", "MSE = 0.004"
_MSE_RE = re.compile(r"(?:mean squared error|\bMSE\b)\D{0,20}?(\d*\.?\d+(?:e-?\d+)?)", re.IGNORECASE)
#: The largest pixel value: "range 0 to 1", "maximum value of 255", "8-bit" / "16-bit"
_RANGE_RE = re.compile(r"range\s*(?:of\s*)?0\s*(?:to|-|–)\s*(\d+(?:\.\d+)?)|"
                       r"max(?:imum)?\s*(?:possible\s*)?(?:pixel\s*)?(?:value|intensity)\s*(?:of|is|=)?\s*(\d+(?:\.\d+)?)|"
                       r"\b(8|12|16)\s*-?\s*bit", re.IGNORECASE)
#: Mask areas for IoU and Dice: "the predicted mask has 80 pixels, the ground truth 100, they share 60"
_PRED_RE = re.compile(r"predict\w*[^.?!;\d]{0,40}?(\d+)", re.IGNORECASE)
_TRUTH_RE = re.compile(r"(?:ground[- ]truth|reference|annotat\w*|manual)[^.?!;\d]{0,40}?(\d+)", re.IGNORECASE)
_SHARED_RE = re.compile(r"(?:share|overlap\w*|intersect\w*|in common)[^.?!;\d]{0,25}?(\d+)|"
                        r"(\d+)\s*(?:pixels?\s*)?(?:overlap|in common|shared)", re.IGNORECASE)
#: Detection counts: "45 true positives, 5 false positives and 15 missed spots"
_TP_RE = re.compile(r"(\d+)\s*(?:true[- ]positives?|TPs?\b)", re.IGNORECASE)
_FP_RE = re.compile(r"(\d+)\s*(?:false[- ]positives?|FPs?\b)", re.IGNORECASE)
_FN_RE = re.compile(r"(\d+)\s*(?:false[- ]negatives?|FNs?\b|missed|misses)|missed\s*(\d+)", re.IGNORECASE)
#: "16 input channels and 32 output channels", in either order (or ``in_channels=16``)
_IN_RE = re.compile(r"(\d+)\s*input\s*channels?|in_channels\s*=\s*(\d+)", re.IGNORECASE)
_OUT_RE = re.compile(r"(\d+)\s*output\s*channels?|out_channels\s*=\s*(\d+)", re.IGNORECASE)
_UNITS = {"nm": 1e-9, "nanometre": 1e-9, "nanometer": 1e-9, "µm": 1e-6, "um": 1e-6, "μm": 1e-6,
          "micrometre": 1e-6, "micrometer": 1e-6, "micron": 1e-6, "mm": 1e-3, "millimetre": 1e-3,
          "millimeter": 1e-3}
_UNIT_WORD = r"(nm|µm|μm|um|nanomet(?:re|er)s?|micromet(?:re|er)s?|microns?|mm|millimet(?:re|er)s?)"
_VALUE_UNIT_RE = re.compile(rf"(\d+(?:\.\d+)?)\s*{_UNIT_WORD}\b", re.IGNORECASE)
_TARGET_RE = re.compile(rf"\b(?:in|into|to)\s+{_UNIT_WORD}\b", re.IGNORECASE)
_SHORT = {"nm": "nm", "µm": "µm", "mm": "mm"}

#: What each formula must look like in a passage, and the query that finds such a passage.
FORMULAS: dict[str, tuple[re.Pattern[str], str]] = {
    "resolution": (re.compile(r"(?:d\s*=\s*)?(?:λ|lambda|wavelength)\s*/\s*\(?\s*2\s*\*?\s*(?:×\s*)?NA", re.IGNORECASE),
                   "limit of resolution d = λ / 2NA wavelength numerical aperture"),
    "nyquist": (re.compile(r"nyquist.{0,200}(?:two to three times smaller|half|2\.3|twice)|"
                           r"(?:two to three times smaller|half the).{0,200}nyquist", re.IGNORECASE | re.DOTALL),
                "Nyquist sampling pixel size two to three times smaller than the smallest feature"),
    "psnr": (re.compile(r"PSNR.{0,600}log|log.{0,200}MSE", re.IGNORECASE | re.DOTALL),
             "PSNR peak signal-to-noise ratio formula log10 MAX squared over MSE"),
    "overlap": (re.compile(r"IoU.{0,80}(?:\\cap|intersection).{0,80}(?:\\cup|union).{0,300}DICE.{0,40}2",
                           re.IGNORECASE | re.DOTALL),
                "IoU intersection over union DICE formula overlap predicted region ground truth"),
    "detection": (re.compile(r"precision.{0,60}TP.{0,40}FP.{0,200}recall.{0,60}TP.{0,40}FN.{0,200}F1.{0,60}TP",
                             re.IGNORECASE | re.DOTALL),
                  "precision recall F1 formula TP FP FN true positives false positives"),
    "conv_params": (re.compile(r"kernel.{0,400}bias.{0,200}parameters|parameters.{0,300}kernel.{0,300}bias",
                               re.IGNORECASE | re.DOTALL),
                    "number of parameters convolutional layer kernels output channels bias terms"),
}


class Calculator(Protocol):
    name: str

    def evaluate(self, expression: str) -> float: ...


_OPS: dict[type, Any] = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
                         ast.Div: operator.truediv, ast.Pow: operator.pow, ast.USub: operator.neg}


class SafeCalculator:
    """Evaluates ``+ - * / **``, ``log10(...)`` and brackets over numbers by walking the syntax tree (no ``eval``)."""

    name = "scopebot's arithmetic evaluator"

    def evaluate(self, expression: str) -> float:
        def walk(node: ast.AST) -> float:
            if isinstance(node, ast.Expression):
                return walk(node.body)
            if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
                return float(node.value)
            if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
                return float(_OPS[type(node.op)](walk(node.left), walk(node.right)))
            if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
                return float(_OPS[type(node.op)](walk(node.operand)))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "log10" \
                    and len(node.args) == 1 and not node.keywords:
                return math.log10(walk(node.args[0]))
            raise ValueError(f"not arithmetic: {ast.dump(node)[:60]}")

        return walk(ast.parse(expression, mode="eval"))


class SandboxCalculator:
    """Runs the arithmetic in the process sandbox; falls back to :class:`SafeCalculator` when refused."""

    def __init__(self, sandbox_factory: Any) -> None:
        self._factory = sandbox_factory
        self._sandbox: Any = None
        self.name = "the sandbox"
        self.refused: str | None = None

    def evaluate(self, expression: str) -> float:
        value = SafeCalculator().evaluate(expression)  # validates: numbers and operators only
        if self.refused is None:
            try:
                if self._sandbox is None:
                    self._sandbox = self._factory()
                result = self._sandbox.run(f"from math import log10\nprint(repr(float({expression})))", timeout=20)
                if result.ok:
                    self.name = "the sandbox"
                    return float(result.stdout.strip().splitlines()[-1])
                self.refused = result.error or result.violation or "the run failed"
            except Exception as exc:  # noqa: BLE001 - a refusing sandbox must not break the answer
                self.refused = f"{type(exc).__name__}: {exc}"[:160]
        self.name = f"scopebot's arithmetic evaluator (the sandbox refused the run: {self.refused})"
        return value


class ComputePlan(BaseModel):
    kind: ComputeKind
    values: dict[str, float] = Field(default_factory=dict)
    units: tuple[str, str] = ("", "")
    formulas: list[str] = Field(default_factory=list, description="Keys of FORMULAS needed.")


class Computation(BaseModel):
    """A computed result: the line shown, the formula passages cited, the expressions evaluated."""

    kind: ComputeKind
    text: str
    keys: list[str] = Field(default_factory=list)
    expressions: dict[str, float] = Field(default_factory=dict)
    evaluator: str = ""


_PIXEL_RE = re.compile(r"\b(?:pixel|voxel)s?\s+(?:size|spacing|pitch|width)")
#: A question about the step between planes: the lateral (xy) Nyquist rule does not answer it, and the
#: axial resolution depends on the pinhole and the medium, which the sources give no formula for.
_AXIAL_RE = re.compile(r"\b(?:z|axial)[- ]?(?:step|spacing|sampling|interval|resolution|slices?)\b|"
                       r"\b(?:step|spacing|distance|interval)s?\s+(?:size\s+)?(?:in|along|between)\s+"
                       r"(?:z|the\s+z|planes|slices|sections)\b|\bslice\s+(?:thickness|spacing)\b", re.IGNORECASE)


def plan(question: str) -> ComputePlan | None:
    """What to compute for ``question``, or None when it asks for no number we know how to compute."""
    q = question.replace(",", " ")
    low = q.lower()
    if (_PIXEL_RE.search(low) or "nyquist" in low or "sampling" in low) and not _AXIAL_RE.search(low):
        na = _NA_RE.search(q)
        wave = _WAVE_RE.search(q)
        if na and wave:
            return ComputePlan(kind="nyquist", values={"na": float(na.group(1) or na.group(2)),
                                                       "wavelength": float(wave.group(1))},
                               formulas=["resolution", "nyquist"])
        size = _FEATURE_RE.search(q)
        if size and not na:  # "structures about 600 nm across": the pixel size from the feature size
            return ComputePlan(kind="nyquist_size", values={"size": float(size.group(1))},
                               units=(_unit(size.group(2)), _unit(size.group(2))), formulas=["nyquist"])
    if "parameter" in low or "weights" in low:
        k = _KERNEL_RE.search(q)
        ch = _CHANNELS_RE.search(q) or _MAPS_RE.search(q)
        cin, cout = _IN_RE.search(q), _OUT_RE.search(q)
        channels = (ch.group(1), ch.group(2)) if ch else \
            ((cin.group(1) or cin.group(2)), (cout.group(1) or cout.group(2))) if cin and cout else None
        if k and channels:
            kx, ky = float(k.group(1)), float(k.group(2))
            return ComputePlan(kind="conv_params", values={"kx": kx, "ky": ky, "cin": float(channels[0]),
                                                           "cout": float(channels[1])}, formulas=["conv_params"])
    mse = _MSE_RE.search(question)
    if ("psnr" in low or "peak signal" in low) and mse:
        top = _RANGE_RE.search(question)
        peak = 1.0 if top is None else float(top.group(1) or top.group(2)) if (top.group(1) or top.group(2)) \
            else float(2 ** int(top.group(3)) - 1)
        if top is not None and float(mse.group(1)) > 0:
            return ComputePlan(kind="psnr", values={"max": peak, "mse": float(mse.group(1))}, formulas=["psnr"])
    if re.search(r"\b(?:iou|dice|jaccard)\b", low):
        pred, truth, shared = _PRED_RE.search(q), _TRUTH_RE.search(q), _SHARED_RE.search(q)
        if pred and truth and shared:
            a, b, i = float(pred.group(1)), float(truth.group(1)), float(shared.group(1) or shared.group(2))
            if 0 < i <= min(a, b):
                return ComputePlan(kind="overlap", values={"pred": a, "truth": b, "shared": i}, formulas=["overlap"])
    if re.search(r"\b(?:precision|recall|f1)\b", low):
        tp, fp, fn = _TP_RE.search(q), _FP_RE.search(q), _FN_RE.search(q)
        if tp and fp and fn and float(tp.group(1)) > 0:
            return ComputePlan(kind="detection", values={"tp": float(tp.group(1)), "fp": float(fp.group(1)),
                                                         "fn": float(fn.group(1) or fn.group(2))},
                               formulas=["detection"])
    value = _VALUE_UNIT_RE.search(q)
    target = _TARGET_RE.search(q[value.end():]) if value else None
    if value and target and ("convert" in low or " in " in low or " into " in low):
        src, dst = _unit(value.group(2)), _unit(target.group(1))
        if src != dst:
            return ComputePlan(kind="unit", values={"value": float(value.group(1))}, units=(src, dst))
    return None


def _unit(word: str) -> str:
    w = word.lower().rstrip("s")
    for key in ("nm", "µm", "μm", "um", "mm"):
        if w == key:
            return "µm" if key in ("um", "μm") else key
    if w.startswith("nanomet"):
        return "nm"
    if w.startswith("micromet") or w.startswith("micron"):
        return "µm"
    return "mm"


def find_formula_passage(formula: str, passages: Sequence[tuple[str, str]]) -> str | None:
    """The key of the first passage ``(key, text)`` that states ``formula``."""
    pattern = FORMULAS[formula][0]
    for key, text in passages:
        if pattern.search(text):
            return key
    return None


def _fmt(x: float) -> str:
    r = math.floor(x * 10 + 0.5) / 10
    whole = math.floor(x + 0.5)
    if abs(r - whole) < 1e-9:
        return f"{whole}"
    return f"{r:g} (≈ {whole})"


def _ratio(x: float) -> str:
    """A score between 0 and 1 to three decimals, with its percentage: "0.667 (66.7 %)"."""
    return f"{round(x, 3):g} ({round(100 * x, 1):g} %)"


def compute(p: ComputePlan, formula_keys: dict[str, str], calculator: Calculator) -> Computation | None:
    """Run ``p``: None when a needed formula has no passage (the number is then not given)."""
    if any(f not in formula_keys for f in p.formulas):
        return None
    v = p.values
    keys = [formula_keys[f] for f in p.formulas]
    if p.kind == "nyquist":
        e_d = f"{v['wavelength']:g} / (2 * {v['na']:g})"
        d = calculator.evaluate(e_d)
        e_half, e_third = f"{d:.6g} / 2", f"{d:.6g} / 3"
        half, third = calculator.evaluate(e_half), calculator.evaluate(e_third)
        text = (f"Resolution limit d = λ / (2 NA) = {v['wavelength']:g} nm / (2 × {v['na']:g}) = {_fmt(d)} nm "
                f"[{keys[0]}]. Nyquist sampling asks for pixels two to three times smaller than that: "
                f"d / 2 = {_fmt(half)} nm to d / 3 = {_fmt(third)} nm [{keys[1]}].")
        exprs = {e_d: d, e_half: half, e_third: third}
    elif p.kind == "nyquist_size":
        unit = p.units[0]
        e_half, e_third = f"{v['size']:g} / 2", f"{v['size']:g} / 3"
        half, third = calculator.evaluate(e_half), calculator.evaluate(e_third)
        text = (f"Nyquist sampling asks for pixels two to three times smaller than the smallest feature to resolve: "
                f"{v['size']:g} {unit} / 2 = {_fmt(half)} {unit} to {v['size']:g} {unit} / 3 = {_fmt(third)} {unit} "
                f"[{keys[0]}].")
        exprs = {e_half: half, e_third: third}
    elif p.kind == "psnr":
        e = f"10 * log10({v['max']:g} ** 2 / {v['mse']:g})"
        r = calculator.evaluate(e)
        text = (f"PSNR = 10 · log10(MAX² / MSE) = 10 · log10({v['max']:g}² / {v['mse']:g}) = {_fmt(r)} dB, with MAX "
                f"the largest possible pixel value [{keys[0]}].")
        exprs = {e: r}
    elif p.kind == "overlap":
        e_iou = f"{v['shared']:g} / ({v['pred']:g} + {v['truth']:g} - {v['shared']:g})"
        e_dice = f"2 * {v['shared']:g} / ({v['pred']:g} + {v['truth']:g})"
        iou, dice = calculator.evaluate(e_iou), calculator.evaluate(e_dice)
        text = (f"IoU = |A ∩ B| / |A ∪ B| = {v['shared']:g} / ({v['pred']:g} + {v['truth']:g} − {v['shared']:g}) = "
                f"{_ratio(iou)}; Dice = 2 |A ∩ B| / (|A| + |B|) = 2 × {v['shared']:g} / ({v['pred']:g} + "
                f"{v['truth']:g}) = {_ratio(dice)} [{keys[0]}].")
        exprs = {e_iou: iou, e_dice: dice}
    elif p.kind == "detection":
        tp, fp, fn = v["tp"], v["fp"], v["fn"]
        e_p, e_r = f"{tp:g} / ({tp:g} + {fp:g})", f"{tp:g} / ({tp:g} + {fn:g})"
        e_f = f"2 * {tp:g} / (2 * {tp:g} + {fp:g} + {fn:g})"
        pr, rc, f1 = calculator.evaluate(e_p), calculator.evaluate(e_r), calculator.evaluate(e_f)
        text = (f"Precision = TP / (TP + FP) = {tp:g} / ({tp:g} + {fp:g}) = {_ratio(pr)}; recall = TP / (TP + FN) = "
                f"{tp:g} / ({tp:g} + {fn:g}) = {_ratio(rc)}; F1 = 2 TP / (2 TP + FP + FN) = 2 × {tp:g} / "
                f"(2 × {tp:g} + {fp:g} + {fn:g}) = {_ratio(f1)} [{keys[0]}].")
        exprs = {e_p: pr, e_r: rc, e_f: f1}
    elif p.kind == "conv_params":
        e_w = f"{v['kx']:g} * {v['ky']:g} * {v['cin']:g} * {v['cout']:g}"
        w = calculator.evaluate(e_w)
        e_t = f"{w:g} + {v['cout']:g}"
        t = calculator.evaluate(e_t)
        text = (f"Parameters = kernel height × width × input channels × output channels + one bias per output "
                f"channel = {v['kx']:g} × {v['ky']:g} × {v['cin']:g} × {v['cout']:g} = {w:g} weights, plus "
                f"{v['cout']:g} bias terms = {t:g} parameters [{keys[0]}].")
        exprs = {e_w: w, e_t: t}
    else:
        src, dst = p.units
        factor = _UNITS[src] / _UNITS[dst]
        e = f"{v['value']:g} * {factor:g}"
        r = calculator.evaluate(e)
        text = f"{v['value']:g} {src} = {v['value']:g} × {factor:g} {dst}/{src} = {r:g} {dst}."
        exprs = {e: r}
    return Computation(kind=p.kind, text=text, keys=keys, expressions=exprs,
                       evaluator=f"Arithmetic run by {calculator.name}.")


def verify(computation: Computation) -> bool:
    """Re-evaluate every expression with :class:`SafeCalculator`: the shown numbers must be right."""
    calc = SafeCalculator()
    return all(abs(calc.evaluate(e) - v) <= 1e-6 * max(1.0, abs(v)) for e, v in computation.expressions.items())


def formula_results(retriever: Any, question: str, results: list[Any], calculator: Calculator,
                    k: int = 5) -> tuple[list[Any], Computation | None]:
    """For a question asking for a number: add the passages stating the formulas (searched when the
    retrieved ones do not) to ``results`` and compute. ``(results, None)`` when nothing is computed."""
    p = plan(question)
    if p is None:
        return results, None
    results = list(results)
    keys: dict[str, str] = {}
    for formula in p.formulas:
        key = find_formula_passage(formula, [(r.chunk.key, r.chunk.body) for r in results])
        if key is None:
            try:
                hits = retriever.search(FORMULAS[formula][1], k=k)
            except Exception:  # noqa: BLE001 - no formula passage: no number
                hits = []
            key = find_formula_passage(formula, [(r.chunk.key, r.chunk.body) for r in hits])
            if key is not None:
                results.append(next(r for r in hits if r.chunk.key == key))
        if key is not None:
            keys[formula] = key
    done = compute(p, keys, calculator)
    if done is not None:
        done.text = f"{done.text} {done.evaluator}"
    return results, done
