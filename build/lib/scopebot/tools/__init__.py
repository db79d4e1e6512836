"""scopebot.tools"""
