/* msg_rtp: not written yet. */
#include "config.h"
