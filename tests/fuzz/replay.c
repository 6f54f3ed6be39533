/* replay.c — runs a libFuzzer target's LLVMFuzzerTestOneInput over files
 * (the seed corpus and every finding kept in tests/fuzz/corpus/), without
 * libFuzzer: the fast corpus replay of the test suite, built with the
 * ordinary compiler (and with the sanitizers in the H2NN_SANITIZE build).
 *   replay FILE...   (exit 0 when every input returned) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv) {
  LLVMFuzzerInitialize(&argc, &argv);
  int n = 0;
  for (int a = 1; a < argc; a++) {
    FILE *f = fopen(argv[a], "rb");
    if (!f) {
      fprintf(stderr, "replay: cannot open %s\n", argv[a]);
      return 1;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(size > 0 ? (size_t)size : 1);
    if (!buf || (size > 0 && fread(buf, 1, (size_t)size, f) != (size_t)size)) {
      fprintf(stderr, "replay: cannot read %s\n", argv[a]);
      return 1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)size);
    free(buf);
    n++;
  }
  printf("replay: %d inputs, no crash\n", n);
  return 0;
}
