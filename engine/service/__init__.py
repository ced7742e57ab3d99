"""The engine's processes: a fork server that preloads torch, the engine service, and one
training worker per run, talking over Unix sockets with a small typed protocol.

This package's __init__ imports nothing: the app imports ``engine.service.host`` (torch-free)
to start the processes, and only the child processes import the torch-using modules.
"""
