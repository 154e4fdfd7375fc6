"""The weekly report (the guide's weekly duties: cost, the access audit, the week's reliability)."""
