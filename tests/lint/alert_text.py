"""The one-alert spec file most lint tests fill in with the expression under test."""

ALERT = """\
alerts:
  shop_errors:
    expr: {expr}
    for: 5m
    severity: warning
    summary: Errors
    description: Errors happen.
"""
