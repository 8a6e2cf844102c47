"""Detection functions, one module per concern. Importing this package registers every detector."""

from tools.checks.detections import declarative, maintenance, reliability, scalability, security

__all__ = ["declarative", "maintenance", "reliability", "scalability", "security"]
