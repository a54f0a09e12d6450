// Placeholder until CohortRaft lands; see DESIGN.md §8.
import CohortCore
