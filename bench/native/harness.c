/*
 * The benchmark's native competitors share this loop. Built by bench/native.ts
 * with one competitor's code included as COMPETITOR (a file that defines
 * `prepare` and `decide`):
 *
 *   harness RECORDS ROUNDS DECISIONS [WARM_UP_MS]
 *
 * reads the 64-byte little-endian records of RECORDS, lets `prepare` adapt
 * them (libpcap wants big-endian words), decides them all once to warm up,
 * and again until WARM_UP_MS milliseconds have passed (none if absent), then
 * times ROUNDS passes over all of them. It prints one line of JSON,
 * {"roundsNs":[...]}, and writes the decisions of the last pass to DECISIONS
 * as little-endian u32s, for the caller to check against the interpreter.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include COMPETITOR

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc != 4 && argc != 5) {
    fprintf(stderr, "usage: %s RECORDS ROUNDS DECISIONS [WARM_UP_MS]\n", argv[0]);
    return 2;
  }
  FILE *in = fopen(argv[1], "rb");
  if (!in) { perror(argv[1]); return 1; }
  fseek(in, 0, SEEK_END);
  long size = ftell(in);
  fseek(in, 0, SEEK_SET);
  size_t count = (size_t)size / 64;
  uint8_t *records = malloc(count * 64 + 1);
  uint32_t *out = malloc(count * 4 + 1);
  if (!records || !out || fread(records, 64, count, in) != count) { fprintf(stderr, "cannot read %s\n", argv[1]); return 1; }
  fclose(in);
  prepare(records, count);
  uint64_t warm_up_ns = argc == 5 ? (uint64_t)(atof(argv[4]) * 1e6) : 0;
  uint64_t warm_up_start = now_ns();
  do {
    for (size_t i = 0; i < count; i++) out[i] = decide(records + 64 * i);
  } while (now_ns() - warm_up_start < warm_up_ns);
  int rounds = atoi(argv[2]);
  printf("{\"roundsNs\":[");
  for (int r = 0; r < rounds; r++) {
    uint64_t start = now_ns();
    for (size_t i = 0; i < count; i++) out[i] = decide(records + 64 * i);
    printf("%s%llu", r ? "," : "", (unsigned long long)(now_ns() - start));
  }
  printf("]}\n");
  FILE *decisions = fopen(argv[3], "wb");
  if (!decisions || fwrite(out, 4, count, decisions) != count) { perror(argv[3]); return 1; }
  fclose(decisions);
  return 0;
}
