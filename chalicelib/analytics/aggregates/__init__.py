"""The analytics aggregates: daily buckets, current totals, what each source item contributes, MRR snapshots."""
