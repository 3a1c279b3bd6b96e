/* Sorts 2000 pseudo-random ints (fixed-seed LCG) with the C library's qsort. */
#include <stdio.h>
#include <stdlib.h>

#define COUNT 2000

static int values[COUNT];

static int compare(const void *a, const void *b) {
  int x = *(const int *) a;
  int y = *(const int *) b;
  return (x > y) - (x < y);
}

int main(void) {
  unsigned int seed = 2024;
  for (int i = 0; i < COUNT; i++) {
    seed = seed * 1103515245u + 12345u;
    values[i] = (int) (seed >> 8);
  }
  qsort(values, COUNT, sizeof(int), compare);
  printf("%d %d\n", values[0], values[COUNT - 1]);
  return 0;
}
