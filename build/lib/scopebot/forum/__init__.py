"""scopebot.forum: the image.sc (Discourse) connector.

* :mod:`~scopebot.forum.client`  polite Discourse JSON client (rate limit, retries, cache)
* :mod:`~scopebot.forum.convert` topic → index sections (question, accepted answer, best replies)
* :mod:`~scopebot.forum.store`   on-disk store of synced topics (source of truth, crash-safe)
* :mod:`~scopebot.forum.sync`    incremental sync + ingestion through an injected callable
* :mod:`~scopebot.forum.live`    live forum search for the chat, as citable search results
* :mod:`~scopebot.forum.cli`     ``scopebot sync imagesc``
* :mod:`~scopebot.forum.fake`    a fake Discourse forum (fixtures + fault injection) for tests
"""
