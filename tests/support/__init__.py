"""Test-only helpers: real OTLP receivers and throwaway TLS certificates."""
