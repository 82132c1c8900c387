/* misc.c — process facts the benchmarks and run summaries report. */
#include "strata_kernels.h"

#include <stdio.h>
#include <string.h>

int64_t sk_peak_rss_bytes(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    int64_t kb = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmHWM:", 6) == 0) {
            long long v = 0;
            if (sscanf(line + 6, "%lld", &v) == 1) kb = v;
            break;
        }
    }
    fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}
