// cpu-calibrate: a fixed amount of single-core work, timed, so that benchmark figures taken at
// different times on a shared virtual machine can be compared. The vCPU's speed here varied by
// a factor of two within an hour (another guest on the host; the guest sees no steal time and no
// PMU), and nothing else in a benchmark's output shows it.
//
// The work resembles the inspection core's: a byte-at-a-time table-driven state machine over a
// 1 MiB buffer of text, 64 passes (64 MiB). Prints "cpu-calibrate: N MB/s" (10^6 bytes per second
// of the best of 3 rounds) and the final state, so the loop cannot be optimised away.
//   build: gcc -O2 -o cpu-calibrate bench/cpu-calibrate.c
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { SIZE = 1 << 20, PASSES = 64, STATES = 16 };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(void) {
    static uint8_t text[SIZE];
    static uint8_t table[STATES][256];
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < SIZE; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        text[i] = (uint8_t)(i % 78 == 76 ? '\r' : i % 78 == 77 ? '\n' : 'A' + x % 58);
    }
    for (int s = 0; s < STATES; s++)
        for (int c = 0; c < 256; c++) {
            x ^= x << 13; x ^= x >> 17; x ^= x << 5;
            table[s][c] = (uint8_t)(c == '\n' ? 0 : x % STATES);
        }
    double best = 0;
    unsigned state = 0, seen = 0;
    for (int round = 0; round < 3; round++) {
        double t0 = now();
        for (int p = 0; p < PASSES; p++)
            for (size_t i = 0; i < SIZE; i++) {
                state = table[state][text[i]];
                seen += state == 3;
            }
        double rate = (double)SIZE * PASSES / (now() - t0) / 1e6;
        if (rate > best) best = rate;
    }
    printf("cpu-calibrate: %.0f MB/s (state %u, %u)\n", best, state, seen);
    return 0;
}
