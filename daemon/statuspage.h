/*
 * The / page: a small HTML status page for the field engineer at the
 * gateway who has no Grafana at hand.  See statuspage.c.
 */
#ifndef DAEMON_STATUSPAGE_H
#define DAEMON_STATUSPAGE_H

struct np_daemon;
struct evbuffer;

/*
 * Append the whole page for the daemon's current state to b: one UTF-8
 * HTML document (serve it as "text/html; charset=utf-8"), without
 * script or external resource.  Reads the daemon, changes nothing.
 */
void		 status_page_render(struct np_daemon *, struct evbuffer *);

#endif
