"""websocat for Python: a netcat/socat for WebSockets that compiles its command line into a script."""

__version__ = "0.1.0"
