"""scopebot.answer"""
