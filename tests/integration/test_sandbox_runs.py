"""The real sandbox doing normal work: outputs, figures, files, limits, cold and warm, CLI commands."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scopebot.cli import app
from scopebot.code.assistant import CodeAssistant
from scopebot.code.synthetic import write_synthetic_image
from scopebot.llm.scripted import ScriptedModel
from scopebot.sandbox import Sandbox, SandboxLimits

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(SandboxLimits(timeout_s=20, max_output_chars=500), workers=2,
                 output_dir=tmp_path_factory.mktemp("out")) as sb:
        yield sb


def test_outputs_figures_and_files(warm: Sandbox, tmp_path: Path) -> None:
    data = tmp_path / "data.txt"
    data.write_text("3\n4\n")
    result = warm.run("import matplotlib.pyplot as plt\nimport sys\n"
                      "vals = [int(v) for v in open('data.txt')]\nprint(sum(vals))\n"
                      "print('warn', file=sys.stderr)\nplt.plot(vals)\nplt.figure()\nplt.plot([1, 2])\n"
                      "open('out.csv', 'w').write('a,b\\n1,2\\n')\n", files=[data])
    assert result.ok, result.error
    assert result.stdout.strip() == "7" and result.stderr.strip() == "warn"
    assert [Path(f).name for f in result.figures] == ["figure_1.png", "figure_2.png"]
    assert Path(result.figures[0]).read_bytes()[:4] == b"\x89PNG"
    assert [Path(f).name for f in result.files] == ["out.csv"]
    assert Path(result.files[0]).read_text() == "a,b\n1,2\n"
    assert result.warm and result.duration_s > 0


def test_exception_gives_type_message_and_short_traceback(warm: Sandbox) -> None:
    result = warm.run("def f():\n    return 1 / 0\n\nf()\n")
    assert not result.ok and result.error == "ZeroDivisionError: division by zero"
    assert result.traceback and 'File "script.py", line 2, in f' in result.traceback
    assert "worker.py" not in result.traceback


def test_output_is_truncated_with_a_marker(warm: Sandbox) -> None:
    result = warm.run("for i in range(200):\n    print('line', i)\n")
    assert result.ok and result.stdout_truncated and result.limit_hit == "output"
    assert "output truncated" in result.stdout and len(result.stdout) < 700


def test_timeout_override_and_concurrent_runs(warm: Sandbox) -> None:
    out: list = []
    threads = [threading.Thread(target=lambda i=i: out.append(warm.run(f"print({i} * 2)"))) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.stdout.strip() for r in out) == ["0", "2", "4", "6"]
    slow = warm.run("import time\ntime.sleep(5)", timeout=0.5)
    assert slow.limit_hit == "timeout" and not slow.ok


def test_cold_sandbox_and_image_global(tmp_path: Path) -> None:
    image, truth = write_synthetic_image(tmp_path)
    with Sandbox(SandboxLimits(timeout_s=30), workers=0, output_dir=tmp_path / "o") as cold:
        result = cold.run("import tifffile\nprint(tifffile.imread(IMAGE_PATH).shape)",
                          files={"image.ome.tif": image}, globals={"IMAGE_PATH": "image.ome.tif"})
    assert result.ok, result.error
    assert result.stdout.strip() == str(truth.shape) and not result.warm


def test_disabled_sandbox_refuses(tmp_path: Path) -> None:
    from scopebot.errors import ConfigurationError

    with Sandbox(workers=0, enabled=False, output_dir=tmp_path) as sb, pytest.raises(ConfigurationError):
        sb.run("print(1)")


def test_assistant_end_to_end_answers_from_the_compiled_plan(warm: Sandbox) -> None:
    """A model that gives no valid plan: the vocabulary plan is compiled, run and verified (no recipe)."""
    model = ScriptedModel(["```python\nimport skimage.filters as f\nprint(f.threshold_magic(1))\n```"],
                          is_small=False)
    result = CodeAssistant(model, warm, None, max_rounds=1).run("count the nuclei")
    assert result.ok and result.verified is True and result.strategy == "plan"
    assert [r.source for r in result.rounds] == ["plan"] and result.fallback_recipe is None
    assert any(Path(f).name == "results.csv" for f in result.files)


@pytest.mark.parametrize("recipe", ["load_image", "max_projection", "background_subtraction", "denoise",
                                    "threshold", "watershed_split", "colocalisation", "tracking",
                                    "deep_learning_segmentation"])
def test_every_recipe_script_runs_in_the_sandbox(warm: Sandbox, recipe: str, tmp_path: Path) -> None:
    from scopebot.code.library import RecipeLibrary

    image, _ = write_synthetic_image(tmp_path)
    result = warm.run(RecipeLibrary().script(recipe), files={"image.ome.tif": image},
                      globals={"IMAGE_PATH": "image.ome.tif"})
    assert result.ok, (result.error, result.traceback)
    assert result.stdout.strip()


def test_cli_run_and_bad_input(tmp_path: Path) -> None:
    runner = CliRunner()
    script = tmp_path / "s.py"
    script.write_text("print('from file')\n")
    res = runner.invoke(app, ["run", str(script), "--json", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["stdout"].strip() == "from file"
    assert runner.invoke(app, ["run", str(tmp_path / "missing.py")]).exit_code == 2
    notimg = tmp_path / "x.png"
    notimg.write_text("not an image")
    assert runner.invoke(app, ["run", str(script), "--image", str(notimg)]).exit_code == 2
    assert runner.invoke(app, ["code", "count the nuclei", "--image", str(notimg)]).exit_code == 2


def test_cli_eval_code_scores_samples(tmp_path: Path) -> None:
    suite = tmp_path / "tasks.jsonl"
    task = {"task_id": "t/0", "prompt": "def double(x):\n    \"\"\"Twice x.\"\"\"\n", "entry_point": "double",
            "canonical_solution": "    return 2 * x\n",
            "test": "def check(candidate):\n    assert candidate(3) == 6\n"}
    suite.write_text(json.dumps(task) + "\n")
    samples = tmp_path / "samples.jsonl"
    samples.write_text("\n".join(json.dumps({"task_id": "t/0", "completion": c})
                                 for c in ["    return 2 * x\n", "    return x + 2\n", "    while True: pass\n"]))
    out = tmp_path / "report"
    res = CliRunner().invoke(app, ["eval", "code", "--suite", str(suite), "--samples", str(samples),
                                   "--timeout", "1", "--out", str(out), "-q"])
    assert res.exit_code == 0, res.output
    report = json.loads((out / "report.json").read_text())
    assert report["metrics"]["pass@1"] == pytest.approx(1 / 3, abs=1e-3)
    assert report["items"][0]["outputs"]["limits"] == ["timeout"] or "cpu" in report["items"][0]["outputs"]["limits"]


def test_runs_folder_is_capped_after_each_run(tmp_path: Path) -> None:
    code = "import matplotlib.pyplot as plt\nplt.plot([1, 2])\n"
    with Sandbox(SandboxLimits(timeout_s=20), output_dir=tmp_path, keep_outputs_mb=0) as sb:
        first = sb.run(code)
        second = sb.run(code)
    assert first.ok and second.ok, (first.error, second.error)
    assert not Path(first.figures[0]).exists()  # over the cap: the older run's folder went
    assert Path(second.figures[0]).read_bytes()[:4] == b"\x89PNG"  # the newest run is never removed
    assert [p.name for p in tmp_path.iterdir()] == [Path(second.figures[0]).parent.name]
