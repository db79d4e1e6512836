"""scopebot.forum"""
