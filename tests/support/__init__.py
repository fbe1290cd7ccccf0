"""Shared test utilities: ports, processes, and the policy for real parts (servers, browsers)."""
