/* main.c — the `shijim` command line.
 *
 *   shijim run SCRIPT.lua [args...]   run a Lua script (the usual way)
 *   shijim SCRIPT.lua [args...]       the same, short form
 *   shijim dump FILE... [--check] [--resync]   print raw-archive records as JSONL
 *   shijim --help | --version
 *
 * A script named without a directory that does not exist in the current
 * directory is looked up in $SHIJIM_HOME/scripts, so `shijim restore.lua`
 * and `shijim run main.lua` work from anywhere.
 *
 * Exit codes: 0 clean stop, 1 runtime or Lua error (one line saying why,
 * plus a traceback for Lua errors), 2 bad usage.
 */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive/archive_days.h"
#include "archive/archive_dump.h"
#include "lua/lua_bridge.h"
#include "lua/shj_api.h"
#include "core/shj_common.h"
#include "ops/ops_notify.h"

static void usage(FILE *out) {
    fprintf(out,
            "shijim %s — Taiwan market-data gateway (C runtime scripted in LuaJIT)\n"
            "\n"
            "usage:\n"
            "  shijim run SCRIPT.lua [args...]   run a script (scripts/main.lua is the default job)\n"
            "  shijim SCRIPT.lua [args...]       same as `run`\n"
            "  shijim dump FILE... [--check] [--resync]\n"
            "                                    print raw-archive records as JSON lines;\n"
            "                                    --check only verifies and summarizes;\n"
            "                                    --resync passes over damaged blocks to the next\n"
            "                                    valid one, naming each byte range skipped\n"
            "  shijim days [--check] [--du] [DIR]\n"
            "                                    list recorded days per source (DIR default\n"
            "                                    data/raw): records, exchange-time range,\n"
            "                                    status (ok/growing/torn/damaged), size\n"
            "  shijim --help | --version\n"
            "\n"
            "Scripts not found in the current directory are looked up in %s/scripts.\n"
            "Examples:\n"
            "  shijim run main.lua                     simulated market -> data/raw (no credentials needed)\n"
            "  shijim run main.lua --duration 10       stop after 10 s\n"
            "  shijim restore.lua --fallback-dir data/fallback --apply\n"
            "  shijim dump data/raw/sim/2026-11-25.shjraw | head\n"
            "\n"
            "Environment: SHIJIM_HOME (scripts root), SHIOAJI_API_KEY/SHIOAJI_SECRET_KEY\n"
            "(or SJ_API_KEY/SJ_SEC_KEY) for a remote Shioaji server.\n",
            SHJ_VERSION, shj_home());
}

static int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Find the script: as given, else in $SHIJIM_HOME/scripts. */
static int resolve_script(const char *name, char *out, size_t cap) {
    if (file_exists(name)) return snprintf(out, cap, "%s", name) < (int)cap ? 0 : -1;
    if (!strchr(name, '/')) {
        snprintf(out, cap, "%s/scripts/%s", shj_home(), name);
        if (file_exists(out)) return 0;
    }
    return -1;
}

static void set_paths(lua_State *L, const char *script) {
    /* The script's own directory first, then ours, then Debian's Lua trees:
     * never the working directory implicitly (see shared/reference/lua.md). */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", script);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    const char *home = shj_home();
    lua_getglobal(L, "package");
    lua_pushfstring(L,
                    "%s/?.lua;%s/scripts/?.lua;%s/scripts/?/init.lua;"
                    "/usr/share/lua/5.1/?.lua;/usr/share/lua/5.1/?/init.lua;"
                    "/usr/local/share/lua/5.1/?.lua;/usr/local/share/lua/5.1/?/init.lua",
                    dir, home, home);
    lua_setfield(L, -2, "path");
    lua_pushstring(L,
                   "/usr/lib/x86_64-linux-gnu/lua/5.1/?.so;/usr/lib/aarch64-linux-gnu/lua/5.1/?.so;"
                   "/usr/local/lib/lua/5.1/?.so;/usr/lib/lua/5.1/?.so");
    lua_setfield(L, -2, "cpath");
    lua_getfield(L, -1, "preload");
    lua_pushcfunction(L, luaopen_shijim_core);
    lua_setfield(L, -2, "shijim.core");
    lua_pop(L, 2);
}

static int run_script(const char *name, int argc, char **argv) {
    char script[4096];
    if (resolve_script(name, script, sizeof script) != 0) {
        fprintf(stderr, "shijim: script not found: %s (looked in . and %s/scripts)\n", name,
                shj_home());
        return 2;
    }
    lua_State *L = luaL_newstate();
    if (!L) {
        fprintf(stderr, "shijim: cannot create the Lua state (out of memory)\n");
        return 1;
    }
    luaL_openlibs(L);
    set_paths(L, script);

    /* arg[0] = script, arg[1..] = its arguments, as the lua interpreter does. */
    lua_createtable(L, argc, 1);
    lua_pushstring(L, script);
    lua_rawseti(L, -2, 0);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setglobal(L, "arg");

    /* Under systemd (Type=notify): READY/WATCHDOG/STOPPING from the loop. */
    if (ops_notify_start() != SHJ_OK) fprintf(stderr, "shijim: cannot register the systemd notifier\n");

    lua_pushcfunction(L, lbr_traceback);
    if (luaL_loadfile(L, script) != 0) {
        /* Syntax errors already read "file:line: message". */
        fprintf(stderr, "shijim: %s\n", lua_tostring(L, -1));
        lua_close(L);
        return 1;
    }
    for (int i = 0; i < argc; i++) lua_pushstring(L, argv[i]);
    int rc = lua_pcall(L, argc, 0, 1);
    if (rc != 0) {
        fprintf(stderr, "shijim: %s\n", lua_tostring(L, -1));
        lua_close(L);
        return 1;
    }
    lua_close(L);
    return 0;
}

static int run_dump(int argc, char **argv) {
    int mode = 0, files = 0, rc = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--check") == 0) mode |= ARCD_CHECK;
        if (strcmp(argv[i], "--resync") == 0) mode |= ARCD_RESYNC;
    }
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--check") == 0 || strcmp(argv[i], "--resync") == 0) continue;
        if (argv[i][0] == '-') {
            fprintf(stderr, "shijim dump: unknown option %s\n", argv[i]);
            return 2;
        }
        files++;
        char err[512] = "";
        /* arcd_dump_jsonl reports problems on stderr itself (file and byte offset). */
        if (arcd_dump_jsonl(argv[i], stdout, mode, err, sizeof err) != SHJ_OK) rc = 1;
    }
    if (!files) {
        fprintf(stderr, "usage: shijim dump FILE... [--check] [--resync]\n");
        return 2;
    }
    fflush(stdout);
    return rc;
}

static const char days_usage[] =
    "usage: shijim days [--check] [--du] [DIR]\n"
    "  One line per day file DIR/<source>/<YYYY-MM-DD>.shjraw (DIR default data/raw):\n"
    "  the trading day (exchange time, night session -> next trading day, Friday night ->\n"
    "  Monday; docs/raw-archive.md), records, first/last exchange time (Taipei), status\n"
    "  (ok, growing: being written, torn: ends inside a block, damaged) and size.\n"
    "  --check  pass over damaged blocks and count the damaged ranges\n"
    "  --du     add a total size per source and overall\n"
    "  Exit: 0 all ok, 1 a file torn/damaged or no day files, 2 bad usage.\n";

static int run_days(int argc, char **argv) {
    int mode = 0;
    const char *dir = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--check")) mode |= ARCDAYS_CHECK;
        else if (!strcmp(argv[i], "--du")) mode |= ARCDAYS_DU;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(days_usage, stdout);
            return 0;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "shijim days: unknown option %s (try --help)\n", argv[i]);
            return 2;
        } else if (dir) {
            fprintf(stderr, "shijim days: one DIR only, got %s and %s\n", dir, argv[i]);
            return 2;
        } else {
            dir = argv[i];
        }
    }
    return arcdays_list(dir ? dir : "data/raw", mode, stdout);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("shijim %s (LuaJIT runtime, ABI %d)\n", SHJ_VERSION, shj_abi_version());
        return 0;
    }
    if (!strcmp(cmd, "run")) {
        if (argc < 3) {
            fprintf(stderr, "usage: shijim run SCRIPT.lua [args...]\n");
            return 2;
        }
        return run_script(argv[2], argc - 3, argv + 3);
    }
    if (!strcmp(cmd, "dump")) return run_dump(argc - 2, argv + 2);
    if (!strcmp(cmd, "days")) return run_days(argc - 2, argv + 2);
    if (cmd[0] == '-') {
        fprintf(stderr, "shijim: unknown option %s (try --help)\n", cmd);
        return 2;
    }
    size_t n = strlen(cmd);
    if (n > 4 && !strcmp(cmd + n - 4, ".lua")) return run_script(cmd, argc - 2, argv + 2);
    fprintf(stderr, "shijim: unknown command \"%s\" (try --help)\n", cmd);
    return 2;
}
