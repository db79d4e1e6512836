"""The page's stylesheet (kept in Python so it ships with the package without package-data)."""

CSS = """
.sb-empty { color: var(--body-text-color-subdued); font-style: italic; }
.sb-checks { display: flex; flex-direction: column; gap: 6px; margin-bottom: 10px; }
.sb-frac { font-size: 1.05em; padding: 6px 10px; border-radius: 6px; }
.sb-ok { background: #e6f4ea; color: #1e5631; }
.sb-warn { background: #fff4d6; color: #6b4e00; }
.sb-bad { background: #fde2e1; color: #7a1c17; }
.sb-abstain { background: #eef1f8; border-left: 4px solid #5b6fa8; padding: 6px 10px; }
.sb-unknown { background: #fde2e1; color: #7a1c17; border-radius: 4px; padding: 0 4px; font-family: monospace; }
mark.sb-flag, .sb-unsup { background: #ffe08a; color: #3d2e00; }
.sb-annotated p { line-height: 1.5; }
.sb-source { border: 1px solid var(--border-color-primary); border-radius: 6px; padding: 6px 10px;
             margin-bottom: 6px; }
.sb-source summary { cursor: pointer; }
.sb-crumb { font-size: 0.85em; color: var(--body-text-color-subdued); margin-top: 4px; }
.sb-link a { font-size: 0.85em; word-break: break-all; }
.sb-key code { font-size: 0.8em; }
.sb-text { max-height: 280px; overflow-y: auto; font-size: 0.9em;
           margin: 6px 0 0 0; padding-left: 8px; border-left: 3px solid var(--border-color-primary); }
.sb-cards { display: flex; flex-direction: column; gap: 8px; }
.sb-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 12px; }
.sb-card-title { font-weight: 600; font-size: 1.05em; }
.sb-score { float: right; font-size: 0.8em; color: var(--body-text-color-subdued); }
.sb-card-meta { font-size: 0.85em; color: var(--body-text-color-subdued); }
.sb-card-desc { font-size: 0.9em; margin: 4px 0; }
.sb-why, .sb-cites { margin: 2px 0 2px 18px; font-size: 0.85em; }
.sb-toollink { display: inline-block; margin-right: 8px; font-size: 0.9em; }
#progress { min-height: 1.6em; }
#run-output { max-height: 520px; overflow: auto; }
"""
