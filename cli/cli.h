/* cli.h - what the command line's files share. */
#ifndef NS_CLI_H
#define NS_CLI_H

#include <stddef.h>

/* "neural-style: error: ..." and exit status 1, at once. */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Seconds as m:ss or h:mm:ss, "--:--" when negative (unknown). */
void format_time(double s, char *buf, size_t n);
/* Monotonic seconds. */
double now_s(void);
/* train.c: `neural-style train ...` (argv[0] = "train"). */
int cli_train(int argc, char **argv);

#endif /* NS_CLI_H */
