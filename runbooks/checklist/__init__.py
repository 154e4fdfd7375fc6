"""The operations guide's Morning Checklist: pure checks on raw objects, and their collection."""
