/* http probe: not written yet (a type without start() is not offered). */
#include "config.h"

#include "probes/probe.h"

const struct probe_type probe_type_http = { .name = "http" };
