/* onc-calc-client tcp|udp HOST PORT PROGRAM COMMAND [ARGS]: one call of calc (calc.x)
 * through rpcgen's client stubs and libtirpc; PORT 0 asks rpcbind on HOST. Commands: null,
 * add A B, echo TEXT, count, sleep MS, bench N BYTES (N ECHO calls, each reply checked).
 * Prints the result; on failure clnt_perror's line on stderr and exit 1. A test program. */
#include "calc.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static CLIENT *connect_to(const char *proto, const char *host, unsigned port,
                          unsigned long program) {
    if (port == 0) return clnt_create(host, program, CALC_VERS, proto);
    struct sockaddr_in at;
    memset(&at, 0, sizeof at);
    at.sin_family = AF_INET;
    at.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, host, &at.sin_addr) != 1) {
        fprintf(stderr, "onc-calc-client: %s is not an IPv4 address\n", host);
        return NULL;
    }
    int sock = RPC_ANYSOCK;
    if (strcmp(proto, "udp") == 0) {
        struct timeval retry = {1, 0};
        return clntudp_create(&at, program, CALC_VERS, retry, &sock);
    }
    return clnttcp_create(&at, program, CALC_VERS, &sock, 0, 0);
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: onc-calc-client tcp|udp HOST PORT PROGRAM COMMAND [ARGS]\n");
        return 64;
    }
    const char *proto = argv[1], *host = argv[2], *command = argv[5];
    CLIENT *c = connect_to(proto, host, (unsigned)strtoul(argv[3], NULL, 0),
                           strtoul(argv[4], NULL, 0));
    if (!c) {
        clnt_pcreateerror("onc-calc-client");
        return 1;
    }
    struct timeval timeout = {10, 0};
    clnt_control(c, CLSET_TIMEOUT, (char *)&timeout);
    enum clnt_stat status = RPC_SUCCESS;
    int differs = 0; /* bench: a reply that is not its call's bytes */
    if (strcmp(command, "null") == 0) {
        status = calc_null_1(NULL, NULL, c);
    } else if (strcmp(command, "add") == 0 && argc == 8) {
        add_args args = {atoi(argv[6]), atoi(argv[7])};
        int sum = 0;
        status = add_1(&args, &sum, c);
        if (status == RPC_SUCCESS) printf("%d\n", sum);
    } else if (strcmp(command, "echo") == 0 && argc == 7) {
        calc_data in = {(u_int)strlen(argv[6]), argv[6]};
        calc_data out = {0, NULL};
        status = echo_1(&in, &out, c);
        if (status == RPC_SUCCESS) {
            printf("%.*s\n", (int)out.calc_data_len, out.calc_data_val);
            xdr_free((xdrproc_t)xdr_calc_data, (char *)&out);
        }
    } else if (strcmp(command, "count") == 0) {
        u_quad_t n = 0;
        status = count_1(NULL, &n, c);
        if (status == RPC_SUCCESS) printf("%llu\n", (unsigned long long)n);
    } else if (strcmp(command, "sleep") == 0 && argc == 7) {
        u_int ms = (u_int)strtoul(argv[6], NULL, 0);
        status = sleep_1(&ms, NULL, c);
    } else if (strcmp(command, "bench") == 0 && argc == 8) {
        const long calls = atol(argv[6]);
        const u_int size = (u_int)atoi(argv[7]);
        char *bytes = calloc(size ? size : 1, 1);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (long i = 0; i < calls && status == RPC_SUCCESS && !differs; ++i) {
            memset(bytes, (int)(i & 0xFF), size);
            calc_data in = {size, bytes};
            calc_data out = {0, NULL};
            status = echo_1(&in, &out, c);
            if (status == RPC_SUCCESS &&
                (out.calc_data_len != size || memcmp(out.calc_data_val, bytes, size) != 0)) {
                fprintf(stderr, "onc-calc-client: ECHO %ld: the reply differs\n", i);
                differs = 1;
            }
            xdr_free((xdrproc_t)xdr_calc_data, (char *)&out);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        const double s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
        if (status == RPC_SUCCESS && !differs)
            printf("%ld calls in %.3f s: %.0f calls/s\n", calls, s, calls / s);
        free(bytes);
    } else {
        fprintf(stderr, "onc-calc-client: unknown command or arguments: %s\n", command);
        clnt_destroy(c);
        return 64;
    }
    if (status != RPC_SUCCESS) clnt_perror(c, "onc-calc-client");
    clnt_destroy(c);
    return status == RPC_SUCCESS && !differs ? 0 : 1;
}
