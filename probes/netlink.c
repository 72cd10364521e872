/* link and route probes: not written yet. */
#include "config.h"

#include "probes/probe.h"

const struct probe_type probe_type_link = { .name = "link" };
const struct probe_type probe_type_route = { .name = "route" };
