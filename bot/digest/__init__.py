"""The morning health digest: the clusters' checklist, key metrics and open incidents, posted on a cron."""
