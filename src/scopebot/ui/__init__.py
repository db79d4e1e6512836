"""scopebot.ui"""
