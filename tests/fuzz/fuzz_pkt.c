/*
 * libFuzzer target: the pcap packet classifier of the watchers
 * (daemon/pkt.h).  The first input byte picks the link type (each one
 * pkt_parse supports) and whether the frame was cut at capture (the
 * wire length then exceeds what was captured); the rest is the frame.
 * A UDP payload it finds also goes through the RTP detector.
 */
#include "config.h"

#include <pcap/dlt.h>

#include "daemon/pkt.h"
#include "tests/fuzz/fuzz.h"

static const int dlts[] = {
	DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, 101 /* LINKTYPE_RAW */,
	DLT_IPV4, DLT_IPV6, 0 /* unsupported */
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt_info	 pi;
	struct pkt_rtp	 rtp;
	size_t		 wire;
	int		 dlt, r;

	if (size < 1)
		return (0);
	dlt = dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))];
	wire = (data[0] & 0x80) ? size - 1 + 1500 : size - 1;
	data++;
	size--;
	r = pkt_parse(dlt, data, size, wire, &pi);
	(void)pkt_reason_name(r);
	if (r == PKT_OK && pi.payload != NULL) {
		/* the payload must lie inside what was captured */
		if (pi.payload < data || pi.payload_len > size ||
		    (size_t)(pi.payload - data) > size - pi.payload_len)
			abort();
		(void)pkt_rtp_parse(pi.payload, pi.payload_len,
		    pi.payload_wire_len, &rtp);
	}
	return (0);
}
