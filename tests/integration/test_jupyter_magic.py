"""The %scopebot magic in a real IPython kernel (ipykernel), driven with jupyter_client, no mocks.

The kernel is a separate process started by jupyter_client's KernelManager with the same
environment as the tests, so it uses the real index in the home. The tests read the kernel's
display messages (Markdown), its stderr and the ``set_next_input`` payload.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest

from scopebot.citations import NOT_IN_SOURCES
from scopebot.settings import Settings

pytestmark = pytest.mark.integration
pytest.importorskip("jupyter_client", reason="the scopebot[jupyter] extra is not installed")
pytest.importorskip("ipykernel", reason="the scopebot[jupyter] extra is not installed")

TIMEOUT = 300


class Kernel:
    """A started kernel and a helper that runs one cell and collects what it sent back."""

    def __init__(self, env: dict[str, str]) -> None:
        from jupyter_client.manager import start_new_kernel

        self.manager, self.client = start_new_kernel(kernel_name="python3", env=env)

    def run(self, code: str) -> dict[str, Any]:
        msg_id = self.client.execute(code)
        out: dict[str, Any] = {"markdown": [], "stdout": "", "stderr": "", "errors": [], "payload": []}
        while True:
            msg = self.client.get_iopub_msg(timeout=TIMEOUT)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status" and content["execution_state"] == "idle":
                break
            if kind in ("display_data", "execute_result") and "text/markdown" in content["data"]:
                out["markdown"].append(content["data"]["text/markdown"])
            elif kind == "stream":
                out[content["name"]] += content["text"]
            elif kind == "error":
                out["errors"].append(f"{content['ename']}: {content['evalue']}")
        reply = self.client.get_shell_msg(timeout=TIMEOUT)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = self.client.get_shell_msg(timeout=TIMEOUT)
        out["status"] = reply["content"]["status"]
        out["payload"] = reply["content"].get("payload", [])
        return out

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    from scopebot.index.builder import live_dir

    settings = Settings()
    if live_dir(settings) is None:
        pytest.fail(f"no index in {settings.home}: build it with `scopebot ingest` before the integration tests")
    workdir = tmp_path_factory.mktemp("notebook")
    k = Kernel({**os.environ, "SCOPEBOT_FORUM_LIVE": "false", "PWD": str(workdir)})
    try:
        loaded = k.run(f"import os; os.chdir({str(workdir)!r})\n%load_ext scopebot")
        assert loaded["status"] == "ok" and not loaded["errors"], loaded
        yield k
    finally:
        k.close()


def assert_cited_answer(markdown: str) -> None:
    assert not markdown.startswith(NOT_IN_SOURCES), markdown
    assert re.search(r"\[1\]", markdown) and "**References**" in markdown, markdown
    assert re.search(r"`\[(bk|tr|rg|mz|fm)-[0-9a-f]{8}\]`", markdown) and "<http" in markdown
    assert "**Check report:**" in markdown and "of sentences supported" in markdown


def test_line_magic_ask_returns_a_cited_answer(kernel: Kernel) -> None:
    out = kernel.run("%scopebot ask How does Noise2Void denoise images without clean ground truth")
    assert out["status"] == "ok" and not out["errors"], out
    assert len(out["markdown"]) == 1
    assert_cited_answer(out["markdown"][0])


def test_cell_magic_and_line_magic_accept_a_question_mark(kernel: Kernel) -> None:
    cell = kernel.run("%%scopebot ask\nWhat is deconvolution used for in fluorescence microscopy?")
    line = kernel.run("%scopebot ask What is deconvolution used for in fluorescence microscopy?")
    for out in (cell, line):
        assert out["status"] == "ok" and not out["errors"] and out["markdown"], out
        assert_cited_answer(out["markdown"][0])


def test_invented_plugin_abstains_in_the_notebook(kernel: Kernel) -> None:
    out = kernel.run("%%scopebot ask\nHow do I configure the Fiji plugin NucleoQuantifierPro-X9?")
    assert out["markdown"] and out["markdown"][0].startswith(NOT_IN_SOURCES)
    assert "Abstained" in out["markdown"][0]


def test_tools_are_recommended_with_links(kernel: Kernel) -> None:
    out = kernel.run("%scopebot tools --interface gui segment nuclei in 3D fluorescence stacks")
    assert out["status"] == "ok" and out["markdown"], out
    assert "](http" in out["markdown"][0]


def test_code_for_a_numpy_variable_is_inserted_then_runs_only_on_request(kernel: Kernel) -> None:
    setup = kernel.run("import numpy as np\nfrom scipy import ndimage as ndi\n"
                       "img = np.zeros((96, 96), np.float32)\n"
                       "for y, x in [(20, 20), (20, 70), (70, 30)]: img[y, x] = 1\n"
                       "img = ndi.gaussian_filter(img, 4)")
    assert setup["status"] == "ok" and not setup["errors"], setup
    shown = kernel.run("%%scopebot code --image img --insert\ncount the nuclei and measure their area")
    assert shown["markdown"] and "imwrite(IMAGE_PATH, img)" in shown["markdown"][0]
    assert shown["payload"] and shown["payload"][0]["source"] == "set_next_input"
    assert "imwrite(IMAGE_PATH, img)" in shown["payload"][0]["text"]
    assert kernel.run("print('IMAGE_PATH' in dir())")["stdout"].strip() == "False"  # not run

    sandbox = kernel.run("%%scopebot code --image img --run sandbox\ncount the nuclei")
    assert len(sandbox["markdown"]) == 1, sandbox  # the checked result (plan, code, output, answer)
    assert re.search(r"\b3 objects", sandbox["markdown"][0]) and "**Answered**" in sandbox["markdown"][0]
    assert "isolation: process" in sandbox["markdown"][0]
    assert kernel.run("print('IMAGE_PATH' in dir())")["stdout"].strip() == "False"  # the kernel untouched

    in_kernel = kernel.run("%%scopebot code --image img --run kernel\ncount the nuclei")
    assert in_kernel["status"] == "ok" and not in_kernel["errors"], in_kernel
    assert re.search(r"\b3 objects", in_kernel["stdout"]), in_kernel["stdout"]
