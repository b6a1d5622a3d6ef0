"""The door-station application: bells, lock, screen, unlock policy and event log, wired to an
``OzWebClient``; ``app.Station`` composes the parts, each in a module of its own."""
