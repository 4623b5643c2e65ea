"""ferry: plan, run, prove and reverse database data migrations."""
__version__ = "0.1.0"
