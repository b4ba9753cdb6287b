"""Talking to running systems: Prometheus (`monspec verify`) and Grafana (`monspec push`)."""
