/* The calc procedures for rpcgen's dispatch function, and a server loop on 127.0.0.1, as a
 * libtirpc programmer writes them. */
#include "calc.h"
#include "calc_onc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* svc_run serves one call at a time: no lock needed. */
static u_quad_t counter;

bool_t calc_null_1_svc(void *argp, void *result, struct svc_req *rqstp) {
    (void)argp; (void)result; (void)rqstp;
    return TRUE;
}

bool_t add_1_svc(add_args *argp, int *result, struct svc_req *rqstp) {
    (void)rqstp;
    *result = (int)((unsigned)argp->a + (unsigned)argp->b);
    return TRUE;
}

/* The reply points into the arguments, which the dispatcher frees after sending it. */
bool_t echo_1_svc(calc_data *argp, calc_data *result, struct svc_req *rqstp) {
    (void)rqstp;
    *result = *argp;
    return TRUE;
}

bool_t count_1_svc(void *argp, u_quad_t *result, struct svc_req *rqstp) {
    (void)argp; (void)rqstp;
    *result = ++counter;
    return TRUE;
}

bool_t sleep_1_svc(u_int *argp, void *result, struct svc_req *rqstp) {
    (void)result; (void)rqstp;
    struct timespec t = {(time_t)(*argp / 1000), (long)(*argp % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
    return TRUE;
}

int calc_prog_1_freeresult(SVCXPRT *transp, xdrproc_t xdr_result, caddr_t result) {
    (void)transp;
    if (xdr_result == (xdrproc_t)xdr_calc_data) return 1; /* the arguments' bytes */
    xdr_free(xdr_result, result);
    return 1;
}

int calc_onc_serve(int protocol, unsigned long program, int register_it,
                   void (*ready)(unsigned short port, void *arg), void *arg,
                   volatile int *stop) {
    const int udp = protocol == IPPROTO_UDP;
    int fd = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
    struct sockaddr_in at;
    memset(&at, 0, sizeof at);
    at.sin_family = AF_INET;
    at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof at;
    if (fd < 0 || bind(fd, (struct sockaddr *)&at, sizeof at) != 0 ||
        getsockname(fd, (struct sockaddr *)&at, &size) != 0) {
        perror("calc_onc_serve: socket");
        return -1;
    }
    if (!udp) listen(fd, SOMAXCONN);
    SVCXPRT *transp = udp ? svcudp_create(fd) : svctcp_create(fd, 0, 0);
    if (!transp) {
        fprintf(stderr, "calc_onc_serve: cannot create the service\n");
        return -1;
    }
    if (!svc_register(transp, program, CALC_VERS, calc_prog_1, register_it ? protocol : 0)) {
        fprintf(stderr, "calc_onc_serve: cannot register program 0x%lx with rpcbind\n", program);
        return -1;
    }
    ready(ntohs(at.sin_port), arg);
    /* svc_run's loop, with a look at *stop every 100 ms. It polls a copy of svc_pollfd, as
     * svc_run does: serving a new connection reallocates the array. */
    struct pollfd *fds = NULL;
    while (!*stop) {
        const int count = svc_max_pollfd;
        struct pollfd *grown = realloc(fds, sizeof *fds * (count > 0 ? count : 1));
        if (!grown) break;
        fds = grown;
        memcpy(fds, svc_pollfd, sizeof *fds * count);
        const int n = poll(fds, count, 100);
        if (n > 0) svc_getreq_poll(fds, n);
    }
    free(fds);
    svc_unregister(program, CALC_VERS);
    svc_destroy(transp);
    return 0;
}
