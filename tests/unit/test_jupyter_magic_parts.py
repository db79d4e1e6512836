"""The %scopebot magic in an in-process IPython shell, on a small invented index (scripted model)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("IPython", reason="the scopebot[jupyter] extra is not installed")

from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from IPython.utils.capture import capture_output  # noqa: E402
from mcp_helpers import small_settings  # noqa: E402

from scopebot.errors import ConfigurationError  # noqa: E402
from scopebot.jupyter.magic import ScopebotMagics, keep_question_marks, notebook_code, parse  # noqa: E402
from scopebot.mcp_server.services import ScopebotServices  # noqa: E402


@pytest.fixture
def shell(tmp_path: Path) -> Iterator[InteractiveShell]:
    sh = InteractiveShell.instance()
    magics = ScopebotMagics(sh, services=ScopebotServices(small_settings(tmp_path)))
    sh.register_magics(magics)
    sh.input_transformers_cleanup.append(keep_question_marks)
    sh.user_ns["_magics"] = magics
    yield sh
    sh.input_transformers_cleanup.remove(keep_question_marks)
    InteractiveShell.clear_instance()


def markdown_of(captured: object) -> str:
    return "\n".join(o.data.get("text/markdown", "") for o in captured.outputs)  # type: ignore[attr-defined]


def test_parse_takes_options_anywhere_and_keeps_the_text() -> None:
    p = parse("tools --interface gui segment nuclei in 3D -k 3")
    assert (p.command, p.text, p.options) == ("tools", "segment nuclei in 3D", {"interface": "gui", "k": "3"})
    assert parse("ask", "What is Noise2Void?").text == "What is Noise2Void?"
    assert parse("").command == "help"
    with pytest.raises(ConfigurationError, match="unknown %scopebot command"):
        parse("summon the answer")
    with pytest.raises(ConfigurationError, match="needs a value"):
        parse("code --image")


def test_question_mark_line_becomes_a_magic_call_not_help() -> None:
    assert keep_question_marks(["%scopebot ask What is it?\n"]) == [
        "get_ipython().run_line_magic('scopebot', 'ask What is it?')\n"]
    assert keep_question_marks(["x = 1?\n"]) == ["x = 1?\n"]
    assert keep_question_marks(["%%scopebot ask\n", "What?\n"]) == ["%%scopebot ask\n", "What?\n"]


def test_line_and_cell_ask_render_markdown_with_citations_and_checks(shell: InteractiveShell) -> None:
    with capture_output() as line:
        shell.run_cell("%scopebot ask How does Noise2Void work without clean images?")
    with capture_output() as cell:
        shell.run_cell("%%scopebot ask\nWhat does deconvolution reverse?")
    for captured in (line, cell):
        md = markdown_of(captured)
        assert "[1]" in md and "**References**" in md and "https://example.org/" in md
        assert "**Check report:**" in md
    assert not shell.user_ns["_magics"].last.abstained


def test_errors_print_the_hint(shell: InteractiveShell) -> None:
    with capture_output() as captured:
        shell.run_cell("%scopebot code --image nothing_here count the nuclei")
    assert "no variable named 'nothing_here'" in captured.stderr and "How to fix" in captured.stderr


def test_code_is_shown_and_inserted_but_not_run(shell: InteractiveShell) -> None:
    import numpy as np

    shell.user_ns["img"] = np.zeros((16, 16), dtype="uint8")
    shell.rl_next_input = None
    with capture_output() as captured:
        shell.run_cell("%%scopebot code --image img --insert\ncount the nuclei")
    md = markdown_of(captured)
    assert "tifffile.imwrite(IMAGE_PATH, img)" in md and "**Not run**" in md
    out = shell.user_ns["_magics"].last
    assert out.status == "not_run" and not out.ok and not out.ran
    assert shell.rl_next_input and "imwrite(IMAGE_PATH, img)" in shell.rl_next_input  # the next cell
    assert "IMAGE_PATH" not in shell.user_ns  # nothing ran in the kernel


def _cells(n: int = 4, side: int = 96) -> object:
    import numpy as np

    img = np.zeros((side, side), np.float32)
    for i in range(n):
        y, x = 15 + 22 * (i // 2), 20 + 40 * (i % 2)
        img[y - 5:y + 5, x - 5:x + 5] = 200.0
    return img.astype("uint16")


def test_code_uses_the_plan_checked_assistant_like_the_cli(shell: InteractiveShell) -> None:
    from scopebot.code.compile import compile_plan
    from scopebot.code.inputs import image_meta
    from scopebot.code.planner import Planner

    shell.user_ns["img"] = _cells()
    request = "count the nuclei and measure their area in square microns"
    with capture_output():
        shell.run_cell(f"%%scopebot code --image img --pixel-size 0.2\n{request}")
    out = shell.user_ns["_magics"].last
    assert "Keywords:" not in out.code and out.recipe is None  # not the old recipe drafting
    assert out.plan_text and "pixel 0.2 um" in out.plan_text
    import tempfile

    import tifffile

    from scopebot.jupyter.magic import ome_metadata

    with tempfile.TemporaryDirectory() as folder:  # the file the magic writes for --pixel-size 0.2
        path = Path(folder) / "img.ome.tif"
        tifffile.imwrite(path, _cells(), ome=True, metadata=ome_metadata((96, 96), 0.2))
        planned = compile_plan(Planner().plan(request, image_meta(path)))
    assert out.code.endswith(planned)  # the code shown is the compiled plan, after the line saving the array
    assert "metadata={'PhysicalSizeX': 0.2" in out.code


def test_pixel_size_stated_in_the_request_is_read_like_the_cli(shell: InteractiveShell) -> None:
    shell.user_ns["img"] = _cells()
    with capture_output():
        shell.run_cell("%%scopebot code --image img\ncount the nuclei and measure area in square microns, "
                       "pixel size 0.2 um")
    out = shell.user_ns["_magics"].last
    assert out.plan_text and "pixel 0.2 um" in out.plan_text and not out.declined


def test_a_path_variable_keeps_the_ome_metadata(shell: InteractiveShell, tmp_path: Path) -> None:
    import tifffile

    path = tmp_path / "cells.ome.tif"
    tifffile.imwrite(path, _cells(), ome=True, metadata={"PhysicalSizeX": 0.5, "PhysicalSizeY": 0.5, "axes": "YX"})
    shell.user_ns["cells_path"] = str(path)
    with capture_output():
        shell.run_cell("%%scopebot code --image cells_path\ncount the nuclei and measure their area in square microns")
    out = shell.user_ns["_magics"].last
    assert out.plan_text and "pixel 0.5 um" in out.plan_text
    assert "IMAGE_PATH = str(cells_path)" in out.code


def test_bad_pixel_size_and_undecodable_text(shell: InteractiveShell) -> None:
    shell.user_ns["img"] = _cells()
    with capture_output() as captured:
        shell.run_cell("%%scopebot code --image img --pixel-size tiny\ncount the nuclei")
    assert "--pixel-size needs the size of one pixel" in captured.stderr
    assert parse("ask", "what is \udcff noise?").text == "what is \ufffd noise?"


def test_notebook_code_saves_the_variable_first() -> None:
    code = notebook_code("print(IMAGE_PATH)\n", "cells")
    assert code.index("imwrite(IMAGE_PATH, cells)") < code.index("print(IMAGE_PATH)")
    assert notebook_code("x\n", None) == "x\n"
