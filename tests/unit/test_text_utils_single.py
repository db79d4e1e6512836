"""The project keeps one stopword list: the tool-request parser builds on it (principle 4)."""

from __future__ import annotations


def test_the_tool_parser_uses_the_one_stopword_list_plus_request_words() -> None:
    from scopebot.answer.text import STOPWORDS
    from scopebot.tools.query import REQUEST_WORDS, content_words
    from scopebot.tools.query import STOPWORDS as TOOL_STOPWORDS

    assert TOOL_STOPWORDS == STOPWORDS | REQUEST_WORDS
    # "Does that also work in 3D?" gave the reason "mentions: also, work" (tryout 17)
    assert "also" not in content_words("Does that also work in 3D?")
