"""evalkit.suite"""
