"""evalkit.calibrate"""
