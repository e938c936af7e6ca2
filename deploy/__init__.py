"""Deployment pieces that run outside the app: Kubernetes manifests, the local
multi-instance harness (`make cluster`) and the PgBouncer runner it shares with
the tests. Nothing in the app imports this package."""
