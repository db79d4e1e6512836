"""Prompt templates: validation on load, rendering, and every shipped prompt file."""

from __future__ import annotations

from pathlib import Path

import pytest

from scopebot.citations import CITATION_RE, NOT_IN_SOURCES
from scopebot.errors import ConfigurationError
from scopebot.prompts import PROMPT_CONSTANTS, PromptLibrary, PromptTemplate, load_prompt
from scopebot.settings import PROJECT_ROOT, Settings

SHIPPED = PROJECT_ROOT / "prompts"


def write(folder: Path, name: str, placeholders: str, body: str, extra: str = "") -> Path:
    path = folder / f"{name}.md"
    path.write_text(f"---\nname: {name}\ndescription: a test prompt\nplaceholders: {placeholders}\n{extra}---\n{body}",
                    encoding="utf-8")
    return path


# -- shipped prompts ----------------------------------------------------------------------------------
def test_every_shipped_prompt_validates() -> None:
    library = PromptLibrary(SHIPPED)
    names = library.names()
    assert {"answer_system", "answer_rewrite", "judge"} <= set(names)
    templates = library.validate_all()
    assert [t.name for t in templates] == names
    for template in templates:
        values = {p: f"<{p}>" for p in template.inputs}
        text = template.render(**values)
        for value in values.values():
            assert value in text
        for placeholder in template.placeholders:
            assert "{" + placeholder + "}" not in text
        for constant in set(template.placeholders) & set(PROMPT_CONSTANTS):
            assert PROMPT_CONSTANTS[constant] in text


def test_answer_prompt_uses_the_shared_constants() -> None:
    template = load_prompt("answer_system", Settings(prompts_dir=SHIPPED))
    assert set(template.inputs) == {"passages", "question"}
    system, user = template.messages(passages="[1] text", question="What is a PSF?")
    assert system.role == "system" and user.role == "user"
    assert NOT_IN_SOURCES in system.content and "What is a PSF?" in user.content
    assert CITATION_RE.search(system.content), "the citation example must match the checker's format"
    raw = (SHIPPED / "answer_system.md").read_text(encoding="utf-8")
    assert NOT_IN_SOURCES not in raw and PROMPT_CONSTANTS["citation_example"] not in raw


def test_judge_prompt_keeps_literal_json_braces() -> None:
    text = PromptLibrary(SHIPPED).render("judge", question="q", reference="r", answer="a")
    assert '{"score": 3, "reason":' in text


# -- validation ----------------------------------------------------------------------------------------
def test_undeclared_placeholder_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "p1", "[question]", "Q: {question} in {lang}")
    with pytest.raises(ConfigurationError) as info:
        PromptTemplate.from_file(path)
    assert "p1.md" in info.value.message and "{lang}" in info.value.message


def test_declared_but_unused_placeholder_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "p2", "[question, history]", "Q: {question}")
    with pytest.raises(ConfigurationError, match="'history' is never used"):
        PromptTemplate.from_file(path)


@pytest.mark.parametrize("body", ["{a.b}", "{a[0]}", "{a!r}", "{a:>5}", "{}", "x { y"])
def test_only_plain_placeholders_are_allowed(tmp_path: Path, body: str) -> None:
    path = write(tmp_path, "p3", "[a]", body)
    with pytest.raises(ConfigurationError):
        PromptTemplate.from_file(path)


@pytest.mark.parametrize(("text", "pattern"), [
    ("no front matter {x}", "missing YAML front matter"),
    ("---\nname: other\ndescription: d\n---\nbody", "does not match the file name"),
    ("---\nname: p4\n---\nbody", "'description' is required"),
    ("---\nname: p4\ndescription: d\nmodel: x\n---\nbody", "unknown front-matter key"),
    ("---\nname: p4\ndescription: d\nplaceholders: q\n---\n{q}", "must be a list"),
    ("---\nname: p4\ndescription: d\n---\nA\n---user---\nB\n---user---\nC", "more than one"),
    ("---\nname: p4\ndescription: d\n---\n\n", "body is empty"),
])
def test_front_matter_and_structure_errors(tmp_path: Path, text: str, pattern: str) -> None:
    path = tmp_path / "p4.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=pattern):
        PromptTemplate.from_file(path)


# -- rendering -----------------------------------------------------------------------------------------
def test_render_and_messages(tmp_path: Path) -> None:
    path = write(tmp_path, "p5", "[question, not_in_sources]",
                 "Say {not_in_sources} if unsure. Braces: {{x}}\n---user---\nQ: {question}\n", "version: 2\n")
    template = PromptTemplate.from_file(path)
    assert template.inputs == ("question",) and template.version == "2"
    messages = template.messages(question="why?")
    assert [m.role for m in messages] == ["system", "user"]
    assert messages[0].content == f"Say {NOT_IN_SOURCES} if unsure. Braces: {{x}}"
    assert messages[1].content == "Q: why?"
    assert template.render(question="why?") == messages[0].content + "\n\nQ: why?"


def test_body_without_marker_is_one_system_message(tmp_path: Path) -> None:
    template = PromptTemplate.from_file(write(tmp_path, "p6", "[]", "Just rules."))
    assert [m.role for m in template.messages()] == ["system"] and template.user is None


def test_missing_extra_and_constant_values_are_errors(tmp_path: Path) -> None:
    template = PromptTemplate.from_file(write(tmp_path, "p7", "[a, b, not_in_sources]", "{a}{b}{not_in_sources}"))
    with pytest.raises(ConfigurationError, match=r"missing value for \{b\}"):
        template.render(a=1)
    with pytest.raises(ConfigurationError, match="unexpected value 'c'"):
        template.render(a=1, b=2, c=3)
    with pytest.raises(ConfigurationError, match="shared constant"):
        template.render(a=1, b=2, not_in_sources="nope")


def test_library_caches_and_reports_unknown_names(tmp_path: Path) -> None:
    write(tmp_path, "p8", "[]", "text")
    (tmp_path / "README.md").write_text("# not a prompt", encoding="utf-8")
    library = PromptLibrary(tmp_path)
    assert library.names() == ["p8"]
    assert library.get("p8") is library.get("p8")
    with pytest.raises(ConfigurationError) as info:
        library.get("nope")
    assert "p8" in info.value.hint
    with pytest.raises(ConfigurationError):
        library.get("../p8")


def test_load_prompt_uses_settings(tmp_path: Path) -> None:
    write(tmp_path, "p9", "[x]", "value {x}")
    assert load_prompt("p9", Settings(home=tmp_path, prompts_dir=tmp_path)).render(x=5) == "value 5"
