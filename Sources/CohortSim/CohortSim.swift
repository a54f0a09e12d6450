// Placeholder until CohortSim lands; see DESIGN.md §8.
import CohortCore
