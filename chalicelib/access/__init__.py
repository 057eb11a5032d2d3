"""Access-level automation (contract subscriptions.md §5.3): the `access-levels` event consumer keeps a user's
plan-linked user access levels in step with the plans of their valid subscriptions."""
