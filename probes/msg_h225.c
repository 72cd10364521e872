/* msg_h225: not written yet. */
#include "config.h"
