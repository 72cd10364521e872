/*
 * tcp: a non-blocking connect, classified as open, refused, unreachable
 * (an ICMP error came back), timeout or error.  The connection is then
 * reset rather than closed, so thousands of probes leave no TIME_WAIT
 * sockets behind on the gateway.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "probes/probe.h"

struct tcp_opts {
	uint64_t	port;		/* default port for bare targets */
};

struct tcp_run {
	int		 fd;
	struct event	*ev;
};

static const struct opt_def tcp_opt_defs[] = {
	OPT("port", OPT_UINT, struct tcp_opts, port, 1, 65535),
};

static int
tcp_default_port(const void *p)
{
	const struct tcp_opts	*o = p;

	return (o->port ? (int)o->port : -1);
}

static void
tcp_end(struct probe_run *run, int err)
{
	probe_log(run, "%s", err ? strerror(err) : "connected");
	run->obs.connected = err == 0;
	if (err != 0)
		snprintf(run->obs.detail, sizeof(run->obs.detail), "%s",
		    strerror(err));
	else
		snprintf(run->obs.detail, sizeof(run->obs.detail), "connected");
	probe_done(run, probe_errno_result(err));
}

static void
tcp_writable(evutil_socket_t fd, short ev, void *arg)
{
	struct probe_run	*run = arg;
	int			 err = 0;
	socklen_t		 len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	tcp_end(run, err);
}

static void
tcp_start(struct probe_run *run)
{
	struct tcp_run		*t = run->state;
	const struct np_addr	*a = run->addr;

	if ((t->fd = probe_socket(run, a->ss.ss_family, SOCK_STREAM, 0)) ==
	    -1) {
		probe_done(run, PR_ERROR);
		return;
	}
	probe_log(run, "connect to %s", run->cfg->targets[run->target]);
	if (connect(t->fd, (const struct sockaddr *)&a->ss, a->len) == 0) {
		tcp_end(run, 0);
		return;
	}
	if (errno != EINPROGRESS) {
		tcp_end(run, errno);
		return;
	}
	t->ev = event_new(run->base, t->fd, EV_WRITE, tcp_writable, run);
	if (t->ev == NULL || event_add(t->ev, NULL) == -1)
		fatalx("tcp: cannot add event");
}

static void
tcp_finish(struct probe_run *run, int timed_out)
{
	struct tcp_run	*t = run->state;
	struct linger	 l = { 1, 0 };

	if (t->ev != NULL) {
		event_free(t->ev);
		t->ev = NULL;
	}
	if (t->fd >= 0) {
		setsockopt(t->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		close(t->fd);
	}
	t->fd = -1;
}

const struct probe_type probe_type_tcp = {
	.name = "tcp",
	.target_port = NP_PORT_REQUIRED,
	.default_port = tcp_default_port,
	.opts = tcp_opt_defs,
	.nopts = NP_NELEM(tcp_opt_defs),
	.opts_size = sizeof(struct tcp_opts),
	.state_size = sizeof(struct tcp_run),
	.start = tcp_start,
	.finish = tcp_finish,
	.success_word = "open",
};
