/* duration.h — wall-clock durations as users and batch systems write them
 * (--max-time, SLURM's time left).
 *
 * Accepted: a number of seconds with an optional unit, "90", "90s", "30m",
 * "1.5h", "2d"; or clock form as SLURM prints it, "M:SS", "H:MM:SS",
 * "D-H", "D-H:MM", "D-H:MM:SS".  A bare number is seconds (SLURM's --time
 * reads a bare number as minutes: write "30m" or "0:30:00" to be clear). */
#ifndef H2NN_UTIL_DURATION_H
#define H2NN_UTIL_DURATION_H

/* 0 and *seconds > 0 on success; H2_EINPUT (message: what was expected) for
 * empty, negative, zero, non-finite or unparsable text. */
int h2_duration_parse(const char *text, double *seconds);

#endif
