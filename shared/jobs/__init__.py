"""The contract between producers (API, gateway, scheduler) and the worker."""
