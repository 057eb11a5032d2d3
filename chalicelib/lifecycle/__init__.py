"""The subscription lifecycle (contract subscriptions.md §6, §7, §10): renewals, off-session charges, dunning,
period ends, expiries and trials, moved on by the `subscription-lifecycle` job.

- `sweep` (the job, every minute) Queries each shard of the due-time index (GSI2) for the items whose next step is
  due and sends each as a task to the `lifecycle-steps` queue — it decides nothing itself.
- `steps` (the task consumer) re-reads the item, asks `machine.next_step` what is due, and performs it as one
  conditional transaction with its events, again while something is due.
"""
