"""Metered usage (contract subscriptions.md §2.6, §12.4): what a user's API clients report, counted per feature and
billing period against the plan's `<feature>_limit`, beside the token balance."""
