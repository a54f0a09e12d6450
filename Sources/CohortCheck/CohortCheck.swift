// Placeholder until CohortCheck lands; see DESIGN.md §8.
import CohortCore
