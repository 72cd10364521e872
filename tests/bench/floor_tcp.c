/*
 * floor_tcp: the floor of a TCP connect probe, and the listener the
 * benchmark connects to (tests/bench/bench.py).
 *
 *   floor_tcp serve PORT          accept on 0.0.0.0:PORT and close, forever
 *   floor_tcp connect N ROUNDS PORT
 *
 * connect: non-blocking connects to 127.1.0.0 + i : PORT, at most WINDOW
 * in flight, one epoll set, SO_ERROR read on writability, then reset
 * (SO_LINGER 0, as netprobed does: no TIME_WAIT).  Prints "probes P
 * connected C cpu_us U", U being user + system CPU of the loop only.
 * Loopback only.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "floor.h"

#define WINDOW	256


static int
serve(int port)
{
	struct sockaddr_in	sin;
	int			fd, c, on = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return (1);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 4096) == -1) {
		perror("bind/listen");
		return (1);
	}
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		if ((c = accept(fd, NULL, NULL)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("accept");
			return (1);
		}
		close(c);
	}
}

static int
probe(unsigned long n, unsigned long rounds, int port)
{
	struct epoll_event	 ev, evs[64];
	struct sockaddr_in	 to;
	struct linger		 l = { 1, 0 };
	unsigned long		 total = n * rounds, started = 0, done = 0,
				 ok = 0;
	socklen_t		 len;
	double			 c0;
	time_t			 t0;
	int			 ep, fd, err, i, k;

	if ((ep = epoll_create1(0)) == -1)
		return (1);
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons((uint16_t)port);
	c0 = cpu_us();
	t0 = time(NULL);
	/* bounded in time as well: a minute at most */
	while (done < total && time(NULL) - t0 < 60) {
		while (started < total && started - done < WINDOW) {
			to.sin_addr.s_addr = htonl(0x7f010000u +
			    (uint32_t)(started % n));
			started++;
			fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
			if (fd == -1) {
				done++;
				continue;
			}
			if (connect(fd, (struct sockaddr *)&to,
			    sizeof(to)) == 0 || errno != EINPROGRESS) {
				ok += errno == 0;
				setsockopt(fd, SOL_SOCKET, SO_LINGER, &l,
				    sizeof(l));
				close(fd);
				done++;
				continue;
			}
			ev.events = EPOLLOUT;
			ev.data.fd = fd;
			epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		}
		if ((k = epoll_wait(ep, evs, 64, 2000)) <= 0)
			break;
		for (i = 0; i < k; i++) {
			fd = evs[i].data.fd;
			err = 0;
			len = sizeof(err);
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
			ok += err == 0;
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
			close(fd);	/* also leaves the epoll set */
			done++;
		}
	}
	printf("probes %lu connected %lu cpu_us %.0f\n", done, ok,
	    cpu_us() - c0);
	return (0);
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "serve") == 0)
		return (serve(atoi(argv[2])));
	if (argc == 5 && strcmp(argv[1], "connect") == 0)
		return (probe(strtoul(argv[2], NULL, 10),
		    strtoul(argv[3], NULL, 10), atoi(argv[4])));
	fprintf(stderr, "usage: floor_tcp serve PORT | "
	    "floor_tcp connect N ROUNDS PORT\n");
	return (2);
}
