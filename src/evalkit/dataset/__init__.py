"""evalkit.dataset"""
