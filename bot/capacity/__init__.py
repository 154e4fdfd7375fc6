"""Capacity: the monthly capacity review (node groups' allocatable, requested and used, and their trend) and the
digest's resource use and errors in logs (the guide's "Capacity planning review", "Check resource utilization" and
"Review logs for errors")."""
