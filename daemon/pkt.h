/* Packet classifier for the watchers (see pkt.c).  Stub. */
#ifndef DAEMON_PKT_H
#define DAEMON_PKT_H
#endif
