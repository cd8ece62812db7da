"""evalkit.project"""
