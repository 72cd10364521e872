/* msg_sip: not written yet. */
#include "config.h"
