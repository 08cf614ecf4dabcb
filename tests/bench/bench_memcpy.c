/* The reference for the virtio-blk speed target: single-threaded memcpy of 64 KiB blocks
 * (the request size) from a 64 MiB source to a 64 MiB destination, so the bytes come
 * from memory as a device's would. Prints "memcpy_bytes_per_s N". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BLOCK (64u << 10)
#define SPAN (64u << 20)

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(void)
{
    uint8_t *src = malloc(SPAN), *dst = malloc(SPAN);
    if (!src || !dst)
        return 1;
    memset(src, 1, SPAN);
    memset(dst, 2, SPAN);
    double best = 0;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
        for (size_t off = 0; off < SPAN; off += BLOCK)
            memcpy(dst + off, src + off, BLOCK);
        double t = now() - t0;
        __asm__ volatile("" ::"r"(dst) : "memory");
        double bps = SPAN / t;
        if (bps > best)
            best = bps;
    }
    printf("memcpy_bytes_per_s %.6g\n", best);
    free(src);
    free(dst);
    return 0;
}
