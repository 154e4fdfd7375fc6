"""Security audit, certificates and the weekly report."""
