"""evalkit.run"""
