"""scopebot.sandbox"""
