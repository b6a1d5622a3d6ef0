"""The phone system: directory, auth, dial plan, sessions, history and the WebSocket server."""
