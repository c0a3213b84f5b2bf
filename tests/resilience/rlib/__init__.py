"""Shared helpers of the resilience suite: reporting, the stack, HTTP clients, load and metrics.

Python 3 standard library only, so the suite runs on any machine with docker and python3.
"""
