// Placeholder until CohortStorage lands; see DESIGN.md §8.
import CohortCore
