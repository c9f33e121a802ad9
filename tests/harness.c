#include "tests/harness.h"
#include <math.h>

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
