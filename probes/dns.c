/* dns probe: not written yet (a type without start() is not offered). */
#include "config.h"

#include "probes/probe.h"

const struct probe_type probe_type_dns = { .name = "dns" };
