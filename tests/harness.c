#include "tests/harness.h"
#include <math.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int test_passed, test_failed;

int test_close(double a, double b, double rtol, double atol)
{
    return isfinite(a) && isfinite(b) && fabs(a - b) <= atol + rtol * fabs(b);
}

int test_summary(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, test_passed, test_failed);
    return test_failed ? 1 : 0;
}

int test_dies(void (*fn)(void *), void *arg, char *msg, size_t n)
{
    int fd[2];
    if (pipe(fd) != 0) return 0;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], 2);
        fn(arg);
        _exit(0);
    }
    close(fd[1]);
    size_t len = 0;
    ssize_t got;
    while (len + 1 < n && (got = read(fd[0], msg + len, n - 1 - len)) > 0) len += (size_t)got;
    msg[len] = 0;
    close(fd[0]);
    int status;
    waitpid(pid, &status, 0);
    return WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0);
}
