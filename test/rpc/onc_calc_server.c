/* onc-calc-server tcp|udp PROGRAM [--register]: calc (calc.x) served by libtirpc with
 * rpcgen's stubs on 127.0.0.1, any free port; prints "PORT\n" once it serves; stops on
 * SIGTERM or SIGINT (removing its rpcbind mapping). A test program: the peer nobody here
 * wrote. */
#include "calc_onc.h"

#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile int stop;

static void on_signal(int signal) {
    (void)signal;
    stop = 1;
}

static void ready(unsigned short port, void *arg) {
    (void)arg;
    printf("%u\n", port);
    fflush(stdout);
}

int main(int argc, char **argv) {
    if (argc < 3 || (strcmp(argv[1], "tcp") != 0 && strcmp(argv[1], "udp") != 0)) {
        fprintf(stderr, "usage: onc-calc-server tcp|udp PROGRAM [--register]\n");
        return 64;
    }
    const unsigned long program = strtoul(argv[2], NULL, 0);
    const int register_it = argc > 3 && strcmp(argv[3], "--register") == 0;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    const int protocol = strcmp(argv[1], "udp") == 0 ? IPPROTO_UDP : IPPROTO_TCP;
    return calc_onc_serve(protocol, program, register_it, ready, NULL, &stop) == 0 ? 0 : 70;
}
