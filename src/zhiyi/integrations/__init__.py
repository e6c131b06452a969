"""Adapters to the outside world, each an interface implementation with a sandbox."""
