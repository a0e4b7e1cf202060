"""Configuration data shipped with the engine: pathway files and an example settings file."""

from pathlib import Path

PATHWAYS_DIR = Path(__file__).parent / "pathways"
DEFAULT_PATHWAY = PATHWAYS_DIR / "sacral-metastasis.yaml"
