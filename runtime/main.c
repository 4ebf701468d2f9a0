/* main.c — the `shijim` command line (placeholder until the Lua bridge lands). */
#include <stdio.h>
#include <string.h>

#include "shj_common.h"

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("shijim %s\n", SHJ_VERSION);
        return 0;
    }
    fprintf(stderr, "usage: shijim run SCRIPT.lua [args...]\n");
    return 2;
}
