"""evalkit.gate"""
