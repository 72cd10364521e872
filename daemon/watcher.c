/* The passive isolation watchers (see watcher.h).  Stub. */
#include "config.h"

#include <event2/buffer.h>

#include "daemon/daemon.h"
#include "daemon/watcher.h"

void
watchers_apply(struct np_daemon *d, const struct np_config *conf)
{
	(void)d;
	(void)conf;
}

void
watchers_free(struct np_daemon *d)
{
	(void)d;
}

void
watchers_status(struct np_daemon *d, struct evbuffer *b)
{
	(void)d;
	evbuffer_add_printf(b, "\"watchers\":[]");
}

int
watchers_replay(const struct np_config *conf, const char *path, FILE *out,
    FILE *err)
{
	(void)conf;
	(void)path;
	(void)out;
	fprintf(err, "--replay: not built yet\n");
	return (2);
}
