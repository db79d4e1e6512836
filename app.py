"""Launch the scopebot web UI: ``python app.py`` (same as ``scopebot serve``).

Host and port come from SCOPEBOT_HOST / SCOPEBOT_PORT (default http://127.0.0.1:7860); the index is
built first when none exists.
"""

from scopebot.ui.cli import serve

if __name__ == "__main__":
    import typer

    typer.run(serve)
