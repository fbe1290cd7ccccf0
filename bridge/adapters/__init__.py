"""Adapters: storage, WordPress transports, queue, payment gateways."""
