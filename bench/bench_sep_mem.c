/* bench/bench_sep_mem.c: run a command as a child and report its peak
 * resident memory and wall time (getrusage of the child through wait4), for
 * bench/bench_sep_mem.sh:
 *   bench_sep_mem CMD [ARGS...]
 * prints "RESULT maxrss_kb=N wall_s=S exit=E" on stdout; exits with the
 * child's status (1 if it could not run or was killed). */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_sep_mem CMD [ARGS...]\n");
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) {
        perror("bench_sep_mem: fork");
        return 1;
    }
    if (pid == 0) {
        execvp(argv[1], argv + 1);
        perror("bench_sep_mem: exec");
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) {
        perror("bench_sep_mem: wait4");
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    printf("RESULT maxrss_kb=%ld wall_s=%.2f user_s=%.2f exit=%d\n", ru.ru_maxrss, wall,
           (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec, code);
    return code;
}
