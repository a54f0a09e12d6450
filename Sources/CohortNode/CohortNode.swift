// Placeholder until CohortNode lands; see DESIGN.md §8.
import CohortCore
