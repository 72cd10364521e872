/* msg_dns: not written yet. */
#include "config.h"
