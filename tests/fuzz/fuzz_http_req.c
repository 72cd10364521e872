/*
 * libFuzzer target: the daemon's HTTP server (daemon/http.c on libevent's
 * evhttp) with its real handlers and limits: /metrics, /healthz,
 * /status, the status page and /probe with its parameters.  The input
 * is sent as raw bytes on a loopback TCP connection to the listener
 * started by http_start() (127.0.0.1, an ephemeral port), then the
 * client half-closes and reads the answer until the server closes.
 *
 * No probe ever runs: the /probe in-flight count is held at its cap, so
 * a request that passes every check (module, target) gets the 503 of a
 * busy daemon instead of sending packets to a target the input chose.
 * Nothing is scheduled either (no sched_apply), only the listener.
 *
 * Each connection comes from its own source address in 127.0.0.0/8:
 * the server closes first, so every finished connection holds its
 * address pair in TIME_WAIT for a minute, and from one source address
 * the ~28,000 ephemeral ports ran out after ~37,000 inputs (connect()
 * failed with EADDRNOTAVAIL, which aborted the run).
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>

#include <event2/event.h>
#include <event2/http.h>

#include "daemon/daemon.h"
#include "tests/fuzz/fuzz.h"

/* A module of each type whose targets /probe parses. */
static const char conf_text[] =
    "site: {name: fuzz}\n"
    "listen: 127.0.0.1:9999\n"
    "probes:\n"
    "  - {name: ping, type: icmp, targets: [127.0.0.1]}\n"
    "  - {name: port, type: tcp, targets: [\"127.0.0.1:9\"]}\n"
    "  - {name: ntp, type: udp, target: \"127.0.0.1:123\","
    " payload_hex: \"23\"}\n"
    "  - {name: dns, type: dns, target: 127.0.0.1,"
    " query_name: platform.city.example}\n"
    "  - {name: web, type: http, target: \"http://127.0.0.1:8080/x\"}\n"
    "  - {name: sip, type: sip, target: 127.0.0.1}\n"
    "  - {name: gk, type: h323, target: 127.0.0.1, mode: ras,"
    " ras_message: grq, alias: fuzz}\n";

const char		*np_version = "fuzz";	/* main.c's */

static struct np_daemon	 d;
static struct sockaddr_in sin_srv;

static void
setup(void)
{
	struct cfg_errors	 errs;
	struct np_addr		 listen;
	struct sockaddr_in	*sin;
	socklen_t		 len;
	size_t			 i;

	log_init(-1);	/* quiet: one line per refused request is noise */
	memset(&errs, 0, sizeof(errs));
	if ((d.conf = config_load_string("fuzz.yaml", conf_text,
	    strlen(conf_text), &errs)) == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msg[i]);
		abort();
	}
	cfg_errors_free(&errs);
	if ((d.base = event_base_new()) == NULL)
		abort();
	d.store = store_new();
	memset(&listen, 0, sizeof(listen));
	sin = (struct sockaddr_in *)&listen.ss;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin->sin_port = 0;
	listen.len = sizeof(*sin);
	if (http_start(&d, &listen, d.conf->web) == -1)
		abort();
	len = sizeof(sin_srv);
	if (getsockname(evhttp_bound_socket_get_fd(d.bound),
	    (struct sockaddr *)&sin_srv, &len) == -1)
		abort();
	/* every /probe that gets that far is "busy": nothing is sent */
	d.nprobe_reqs = PROBE_REQ_MAX;
}

/* The client: read and drop the answer; stop at EOF or error. */
static void
client_cb(evutil_socket_t fd, short ev, void *arg)
{
	char	buf[4096];
	ssize_t	r;

	(void)arg;
	if (ev & EV_TIMEOUT) {
		event_base_loopbreak(d.base);
		return;
	}
	while ((r = recv(fd, buf, sizeof(buf), 0)) > 0)
		;
	if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
		event_base_loopbreak(d.base);
}

/* Connect the non-blocking fd to the listener; 0, or -1 with errno. */
static int
connect_wait(int fd)
{
	struct pollfd	pfd = { fd, POLLOUT, 0 };
	socklen_t	len = sizeof(int);
	int		err = 0, r;

	if (connect(fd, (struct sockaddr *)&sin_srv, sizeof(sin_srv)) == 0)
		return (0);
	if (errno != EINPROGRESS && errno != EINTR)
		return (-1);
	while ((r = poll(&pfd, 1, 5000)) == -1 && errno == EINTR)
		;
	if (r == 0)
		errno = ETIMEDOUT;
	if (r <= 0)
		return (-1);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		return (-1);
	errno = err;
	return (err == 0 ? 0 : -1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint32_t	 nconn;
	struct timeval	 tv = { 5, 0 };
	struct sockaddr_in src;
	struct event	*ev;
	size_t		 off;
	ssize_t		 w;
	int		 fd;

	if (d.base == NULL)
		setup();
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		abort();
	/* 127.1.0.1 ... 127.1.255.254, round and round */
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	src.sin_addr.s_addr = htonl(0x7f010001u + nconn++ % 0xfffeu);
	/* non-blocking, waited for with poll(): libFuzzer's SIGALRM (its
	 * -timeout check) interrupted a blocking connect() now and then */
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) == -1 ||
	    connect_wait(fd) == -1) {
		fprintf(stderr, "fuzz_http_req: connect from %s: %s\n",
		    inet_ntoa(src.sin_addr), strerror(errno));
		abort();
	}
	/* the loop is not running yet: what does not fit the loopback
	 * buffers (far more than -max_len) is dropped */
	for (off = 0; off < size; off += (size_t)w)
		if ((w = send(fd, data + off, size - off, MSG_NOSIGNAL)) <= 0)
			break;
	shutdown(fd, SHUT_WR);
	if ((ev = event_new(d.base, fd, EV_READ | EV_PERSIST, client_cb,
	    NULL)) == NULL)
		abort();
	event_add(ev, &tv);
	event_base_dispatch(d.base);
	event_free(ev);
	close(fd);
	/* let the server finish its side of a connection it still holds */
	event_base_loop(d.base, EVLOOP_NONBLOCK);
	return (0);
}
