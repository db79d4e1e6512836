"""scopebot.code"""
