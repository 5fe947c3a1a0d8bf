"""Dates and times beneath both the toolbox and the course: the days and clock times people type, working
days, Norwegian holidays, summer closure and a unit's daily window. Nothing here knows a case, a course or a
platform, so both areas (and the handlers) may use it and it may use neither.
"""
