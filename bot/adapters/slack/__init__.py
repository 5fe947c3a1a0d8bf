"""Partsbot in Slack (bolt for Python): ``app`` wires it, ``events`` translates payloads into neutral events,
``render`` builds Block Kit, ``messenger`` sends, ``home`` is the App Home tab, ``installs`` the workspace
installs, ``dedupe`` the once-per-event ledger, ``socket_mode`` the WebSocket alternative to HTTP.

Nothing is imported here, so ``bot.adapters.slack.home`` (the section registry) stays cheap to import.
"""
