/* The `watchers:` configuration (see watcher.h).  Stub. */
#include "config.h"

#include <stdlib.h>

#include "daemon/yamldoc.h"
#include "daemon/watcher.h"

struct watcher_cfg **
watchers_config_parse(struct yamldoc *yd, struct yaml_node_s *n, size_t *np)
{
	yd_error(yd, n, "'watchers' is not supported yet");
	*np = 0;
	return (NULL);
}

void
watcher_cfgs_free(struct watcher_cfg **v, size_t n)
{
	(void)n;
	free(v);
}
