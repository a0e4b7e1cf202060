"""FHIR R4 (R4B models) and iCalendar renderers, and the FHIR import mapping: pure, given domain values."""
