/* Sums a 256 KiB array of longs with a stride of 520 bytes (65 longs), three passes.
 * The stride is not a multiple of the page size, so successive touches walk across
 * the 96 pages of the array in a repeating pattern. */
#include <stdio.h>

#define N (256 * 1024 / sizeof(long))
#define STRIDE 65
#define PASSES 3

static long data[N];

int main(void) {
  for (unsigned long i = 0; i < N; i += 8) {
    data[i] = (long) i;
  }
  long sum = 0;
  for (int pass = 0; pass < PASSES; pass++) {
    for (unsigned long start = 0; start < STRIDE; start += 13) {
      for (unsigned long i = start; i < N; i += STRIDE) {
        sum += data[i];
      }
    }
  }
  printf("%ld\n", sum);
  return 0;
}
