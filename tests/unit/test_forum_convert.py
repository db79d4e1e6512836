"""Cooked HTML → text and topic → sections for the image.sc forum source."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from scopebot.forum.convert import FORUM_SOURCE, fingerprint_sections, topic_to_sections, topic_url
from scopebot.forum.html import cooked_to_text
from scopebot.forum.models import Topic

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "discourse"


def load_topic(tid: int) -> Topic:
    return Topic.model_validate(json.loads((FIXTURES / "topics" / f"{tid}.json").read_text()))


# -- HTML ---------------------------------------------------------------------------------------
def test_code_blocks_are_fenced_with_language_and_kept_verbatim() -> None:
    html = ('<p>Try:</p><pre><code class="lang-python">for i in range(3):\n    if i &gt; 1:\n'
            '        print(i)\n</code></pre><p>done</p>')
    text = cooked_to_text(html)
    assert "```python\nfor i in range(3):\n    if i > 1:\n        print(i)\n```" in text
    assert text.startswith("Try:") and text.endswith("done")


def test_lang_auto_code_block_has_plain_fence_and_inline_code_uses_backticks() -> None:
    text = cooked_to_text('<p>Use <code>setBatchMode(true)</code></p><pre><code class="lang-auto">run("x");\n</code></pre>')
    assert "`setBatchMode(true)`" in text
    assert "```\nrun(\"x\");\n```" in text


def test_quotes_oneboxes_images_emoji_and_mentions_are_condensed() -> None:
    html = ('<aside class="quote" data-username="ana" data-post="1"><div class="title">ana:</div>'
            '<blockquote><p>Does it work in 3D?</p></blockquote></aside><p>Yes <img class="emoji" alt=":+1:"> '
            '<a class="mention" href="/u/bob">@bob</a></p>'
            '<aside class="onebox" data-onebox-src="https://imagej.net/plugins"><article><h3>Plugins</h3>'
            '<p>long preview text</p></article></aside>'
            '<div class="lightbox-wrapper"><a class="lightbox" href="/x.png"><img alt="nuclei.png" src="/x.png">'
            '<div class="meta"><span>nuclei.png</span> 1024×1024 200 KB</div></a></div>')
    text = cooked_to_text(html)
    assert "> ana wrote:" in text and "> Does it work in 3D?" in text
    assert "ana:" not in text.replace("ana wrote:", "")
    assert ":+1:" not in text and "@bob" in text
    assert "[link: https://imagej.net/plugins]" in text and "long preview text" not in text
    assert "[image: nuclei.png]" in text and "200 KB" not in text


def test_lists_links_and_entities() -> None:
    text = cooked_to_text('<ol><li>open</li><li>measure &amp; save</li></ol>'
                          '<p>See <a href="https://example.org/doc">the docs</a>.</p>')
    assert "1. open" in text and "2. measure & save" in text
    assert "the docs (https://example.org/doc)" in text


def test_empty_html_gives_empty_text() -> None:
    assert cooked_to_text("") == ""


# -- sections -----------------------------------------------------------------------------------
def test_solved_topic_becomes_question_accepted_answer_and_best_replies() -> None:
    sections = topic_to_sections(load_topic(101), base_url="https://forum.image.sc")
    labels = [s.path[-1] for s in sections]
    assert labels == ["Question", "Accepted answer", "Reply by Kenji Tanaka (@k.tanaka)",
                      "Reply by Lotte van den Berg (@lvdberg)"]
    # the short "Thanks, that worked!" note is not a best reply
    assert not any("Thanks, that worked" in s.text for s in sections)
    q, acc = sections[0], sections[1]
    assert all(s.kind == "forum" and s.source_id == "imagesc" for s in sections)
    assert all(s.doc_title == "StarDist merges touching nuclei in 3D" for s in sections)
    assert q.path == ["StarDist merges touching nuclei in 3D", "Question"]
    assert q.url == "https://forum.image.sc/t/stardist-merges-touching-nuclei-in-3d/101"
    assert acc.url == "https://forum.image.sc/t/stardist-merges-touching-nuclei-in-3d/101/3"
    assert "```python" in acc.text and "predict_instances" in acc.text
    assert acc.metadata["accepted"] is True and q.metadata["accepted"] is False
    assert acc.metadata["attribution"] == "Marta Rosen (@mrosen) on image.sc, 2024-03-05"
    assert acc.metadata["authors"] == ["Marta Rosen (@mrosen)", "mrosen"]
    for s in sections:
        m = s.metadata
        assert m["topic_id"] == 101 and m["solved"] is True
        assert m["tags"] == ["stardist", "segmentation", "3d"]
        assert m["last_posted_at"] == "2024-03-06T14:30:00.000Z" and m["created_at"]
        assert m["fingerprint"] == sections[0].metadata["fingerprint"]
        json.dumps(m)  # metadata must be JSON-serialisable


def test_unsolved_topic_has_no_accepted_section_and_whispers_are_skipped() -> None:
    sections = topic_to_sections(load_topic(103))
    assert [s.path[-1] for s in sections][0] == "Question"
    assert not any(s.metadata["accepted"] for s in sections)
    assert all(s.metadata["solved"] is False for s in sections)
    auto = topic_to_sections(load_topic(105))
    assert not any("automatically tagged" in s.text for s in auto)   # post_type 3 (small action)


def test_username_only_author_is_shown_with_at_sign() -> None:
    sections = topic_to_sections(load_topic(105))
    assert "Reply by @pbrandt" in [s.path[-1] for s in sections]


def test_missing_accepted_post_falls_back_to_discourse_excerpt() -> None:
    topic = load_topic(105)
    topic.post_stream.posts = [p for p in topic.posts if p.post_number != 4]
    sections = topic_to_sections(topic)
    acc = [s for s in sections if s.metadata["accepted"]]
    assert len(acc) == 1 and "(excerpt)" in acc[0].text and acc[0].url.endswith("/105/4")


def test_fingerprint_changes_with_content_but_not_with_likes() -> None:
    topic = load_topic(102)
    base = topic_to_sections(topic)[0].metadata["fingerprint"]
    liked = copy.deepcopy(topic)
    liked.posts[1].actions_summary[0].count += 10
    assert topic_to_sections(liked)[0].metadata["fingerprint"] == base
    edited = copy.deepcopy(topic)
    edited.posts[1].cooked += "<p>Edit: also works for LIF files.</p>"
    assert topic_to_sections(edited)[0].metadata["fingerprint"] != base
    assert fingerprint_sections([]) != base


@pytest.mark.parametrize("post_number, expected", [(None, "/t/s/7"), (1, "/t/s/7"), (4, "/t/s/7/4")])
def test_topic_url(post_number: int | None, expected: str) -> None:
    assert topic_url("https://forum.image.sc/", "s", 7, post_number) == "https://forum.image.sc" + expected


def test_forum_source_spec_matches_the_contract() -> None:
    assert (FORUM_SOURCE.id, FORUM_SOURCE.kind, FORUM_SOURCE.parser) == ("imagesc", "forum", "discourse")
    assert FORUM_SOURCE.title == "image.sc forum" and FORUM_SOURCE.url == "https://forum.image.sc"
    assert FORUM_SOURCE.subpath == ""
