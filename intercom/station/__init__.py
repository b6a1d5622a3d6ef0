"""The door-station application: bells, lock, screen, unlock policy and event log, wired to an
``OzWebClient``."""
