// Placeholder until CohortNet lands; see DESIGN.md §8.

