/* The process the gdb driver tests debug: built with -g -O0 by the test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct point { int x, y; };

int add(int a, int b) {
  int c = a + b;
  return c;
}

int greet(const char *name, struct point *p) {
  int n = (int)strlen(name);
  return n + add(p->x, p->y);
}

int main(int argc, char **argv) {
  struct point p = { 3, 4 };
  const char *who = argc > 1 ? argv[1] : "world";
  int r = greet(who, &p);
  if (argc > 2) sleep(atoi(argv[2]));
  printf("r=%d\n", r);
  return r;
}
