"""evalkit.score"""
