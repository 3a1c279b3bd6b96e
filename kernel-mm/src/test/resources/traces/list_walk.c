/* Builds a singly linked list of 1500 64-byte nodes carved from one malloc'd pool, links
 * them in a shuffled order (fixed-seed LCG, Fisher-Yates), then walks the list three times.
 * The pointer chase jumps between the pool's 24 pages in an order the TLB cannot predict. */
#include <stdio.h>
#include <stdlib.h>

#define NODES 1500
#define WALKS 3

struct node {
  struct node *next;
  long value;
  char pad[48];
};

int main(void) {
  struct node *pool = malloc(NODES * sizeof(struct node));
  static struct node *order[NODES];
  if (pool == NULL) {
    return 1;
  }
  for (int i = 0; i < NODES; i++) {
    pool[i].value = i;
    order[i] = &pool[i];
  }
  unsigned long seed = 12345;
  for (int i = NODES - 1; i > 0; i--) {
    seed = seed * 6364136223846793005UL + 1442695040888963407UL;
    int j = (int) ((seed >> 33) % (unsigned long) (i + 1));
    struct node *tmp = order[i];
    order[i] = order[j];
    order[j] = tmp;
  }
  for (int i = 0; i < NODES - 1; i++) {
    order[i]->next = order[i + 1];
  }
  order[NODES - 1]->next = NULL;
  long sum = 0;
  for (int w = 0; w < WALKS; w++) {
    for (struct node *n = order[0]; n != NULL; n = n->next) {
      sum += n->value;
    }
  }
  printf("%ld\n", sum);
  free(pool);
  return 0;
}
