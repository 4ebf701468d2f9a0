/* tool_free_ports.c — print N free TCP ports on 127.0.0.1, one line, space-separated.
 *
 * Every socket stays bound until all N are chosen, so the N ports differ.
 * Used by tests/chserver.sh (a fresh Debian has no python to ask). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 1;
    if (n < 1 || n > 64) {
        fprintf(stderr, "usage: tool_free_ports [N=1..64]\n");
        return 2;
    }
    int fds[64];
    for (int i = 0; i < n; i++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&a, sizeof a) != 0 ||
            getsockname(fds[i], (struct sockaddr *)&a, &len) != 0) {
            perror("tool_free_ports");
            return 1;
        }
        printf("%s%u", i ? " " : "", (unsigned)ntohs(a.sin_port));
    }
    printf("\n");
    for (int i = 0; i < n; i++) close(fds[i]);
    return 0;
}
