/* Packet classifier for the watchers.  Stub. */
#include "config.h"

#include "daemon/pkt.h"
