// The target's code is all in its header (an inline function); a C target needs one source.
#include "CohortPrefetch.h"
