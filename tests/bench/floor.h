/*
 * What the C floors of the benchmark share (tests/bench/floor_*.c): the
 * process's own CPU time, the figure they report per probe.
 */
#ifndef BENCH_FLOOR_H
#define BENCH_FLOOR_H

#include <sys/resource.h>

/* User + system CPU time of this process so far, in microseconds. */
static inline double
cpu_us(void)
{
	struct rusage	ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec));
}

#endif /* BENCH_FLOOR_H */
