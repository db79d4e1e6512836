"""scopebot.llm"""
