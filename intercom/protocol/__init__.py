"""Sans-I/O core: message types, validation, limits and the call/session state machines.

Nothing in this package opens a socket, reads a file or looks at the clock on its own; the
exchange and the client drive it.
"""
