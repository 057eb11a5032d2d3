"""Analytics (admin.md §17): aggregates an event consumer maintains, read by the admin analytics routes."""
