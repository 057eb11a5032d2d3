"""The local stage's development routes (contract admin.md §19): the clock, jobs on demand, sent notifications,
reseeding. Every route is declared with `stage="local"` and answers 404 in any other stage."""
