"""The HMS record: what a unit did with the course's tools, as a document for its internkontroll.

:mod:`bot.record.hms` collects it (cases, plans and decisions, actions, HØRA meetings, the course and its
figures, thresholds kept); :mod:`bot.record.files` writes it as PDF, CSV or JSON.
"""
