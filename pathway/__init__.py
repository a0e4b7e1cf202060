"""Care-pathway engine for sacral soft-tissue metastasis (decision support for clinicians)."""

__version__ = "0.1.0"
