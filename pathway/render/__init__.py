"""Renderers: the daily report (Markdown, HTML, CSV, JSON), its charts, SVG diagrams and timelines."""
