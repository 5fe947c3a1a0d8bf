"""Dates and times: what people type (:mod:`bot.dates.parse`) and the calendar code shared by the toolbox
and the course."""
