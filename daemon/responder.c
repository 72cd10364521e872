/* The media/UDP echo responder: not written yet. */
#include "config.h"

#include "daemon/daemon.h"

int
responder_run(const char *spec)
{
	log_err("--responder %s: not available in this build", spec);
	return (2);
}
