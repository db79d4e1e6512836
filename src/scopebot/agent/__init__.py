"""scopebot.agent"""
