/*
 * floor_icmp: the physical floor of an ICMP echo probe, for the
 * benchmark harness (tests/bench/bench.py).  One raw socket, a tight
 * send/receive loop over N loopback targets 127.1.0.0 + i, no
 * scheduling, no per-target state beyond a counter: whatever netprobed
 * spends above this is its own bookkeeping.
 *
 *   floor_icmp N ROUNDS
 *
 * prints "probes P replies R cpu_us C" where C is this process's user +
 * system CPU time (getrusage) spent in the loop only, not in start-up.
 * At most WINDOW echoes are outstanding so replies never overflow the
 * receive queue; two seconds without one of our replies end the loop.  Loopback only: targets are 127.1.0.0/16 and up.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <arpa/inet.h>
#include <linux/icmp.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "floor.h"

#define WINDOW	256


/* RFC 1071 Internet checksum */
static uint16_t
cksum(const void *p, size_t len)
{
	const uint16_t	*w = p;
	uint32_t	 s = 0;

	for (; len > 1; len -= 2)
		s += *w++;
	if (len == 1)
		s += *(const uint8_t *)w;
	s = (s >> 16) + (s & 0xffff);
	s += s >> 16;
	return ((uint16_t)~s);
}

int
main(int argc, char **argv)
{
	struct icmp_filter	 filt;
	struct sockaddr_in	 to;
	struct icmphdr		*h;
	struct pollfd		 pfd;
	uint8_t			 pkt[64], buf[2048];
	unsigned long		 n, rounds, total, sent = 0, got = 0, i;
	uint16_t		 id = (uint16_t)getpid();
	double			 c0;
	time_t			 last;
	int			 fd;

	if (argc != 3 || (n = strtoul(argv[1], NULL, 10)) == 0 ||
	    n > 65536 * 200 || (rounds = strtoul(argv[2], NULL, 10)) == 0) {
		fprintf(stderr, "usage: floor_icmp N ROUNDS\n");
		return (2);
	}
	if ((fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK, IPPROTO_ICMP)) ==
	    -1) {
		perror("socket");
		return (1);
	}
	/* only echo replies reach us, as netprobed's filter does */
	filt.data = ~(1U << ICMP_ECHOREPLY);
	setsockopt(fd, SOL_RAW, ICMP_FILTER, &filt, sizeof(filt));
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	memset(pkt, 0xa5, sizeof(pkt));
	h = (struct icmphdr *)pkt;
	total = n * rounds;
	pfd.fd = fd;
	pfd.events = POLLIN;

	c0 = cpu_us();
	last = time(NULL);
	while (got < total) {
		/* bounded: a second without one of our replies (lost ones,
		 * or only other programs' ICMP arriving) ends the loop */
		if (time(NULL) - last > 1)
			break;
		while (sent < total && sent - got < WINDOW) {
			i = sent % n;
			to.sin_addr.s_addr = htonl(0x7f010000u + (uint32_t)i);
			h->type = ICMP_ECHO;
			h->code = 0;
			h->un.echo.id = id;
			h->un.echo.sequence = htons((uint16_t)sent);
			h->checksum = 0;
			h->checksum = cksum(pkt, sizeof(pkt));
			if (sendto(fd, pkt, sizeof(pkt), 0,
			    (struct sockaddr *)&to, sizeof(to)) == -1 &&
			    errno != EAGAIN)
				break;
			sent++;
		}
		if (poll(&pfd, 1, 1000) <= 0)
			break;		/* a second of silence: loss, stop */
		for (;;) {
			ssize_t	len = recv(fd, buf, sizeof(buf), 0);
			struct icmphdr	*r;
			size_t		 hl;

			if (len <= 0)
				break;
			hl = (size_t)(buf[0] & 0x0f) * 4;
			if ((size_t)len < hl + sizeof(*r))
				continue;
			r = (struct icmphdr *)(buf + hl);
			if (r->type == ICMP_ECHOREPLY && r->un.echo.id == id) {
				got++;
				last = time(NULL);
			}
		}
	}
	printf("probes %lu replies %lu cpu_us %.0f\n", sent, got,
	    cpu_us() - c0);
	close(fd);
	return (0);
}
