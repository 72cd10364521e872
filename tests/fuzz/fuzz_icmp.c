/*
 * libFuzzer target: ICMP and ICMPv6 packets as the icmp probe and the
 * isolation observer read them (probes/icmp_pkt.h, probes/isolation.h):
 * echo replies and errors with the quoted inner packet, and TCP segments.
 * The first byte picks the socket's view: bit 0 IPv6, bit 1 with the IP
 * header in front (raw IPv4 sockets).
 */
#include "config.h"

#include "probes/icmp_pkt.h"
#include "probes/isolation.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct icmp_info	 ii;
	struct iso_icmp_error	 ie;
	struct iso_tcp_segment	 ts;
	int			 v6, with_ip;

	if (size < 1)
		return (0);
	v6 = data[0] & 1;
	with_ip = !v6 && (data[0] & 2);
	data++;
	size--;
	(void)icmp_parse(data, size, v6, with_ip, &ii);
	if (iso_icmp_error_parse(data, size, v6, with_ip, &ie) == 0 &&
	    ie.inner_family != AF_INET && ie.inner_family != AF_INET6)
		abort();
	if (iso_tcp_parse(data, size, v6, &ts) == 0)
		(void)iso_hops(ts.ttl);
	(void)icmp_checksum(data, size);
	return (0);
}
