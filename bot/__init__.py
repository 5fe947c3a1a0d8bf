"""Partsbot: the course "Kurs i rolleforståelse og partssamarbeid" carried into Slack and Teams."""

__version__ = "0.1.0"
