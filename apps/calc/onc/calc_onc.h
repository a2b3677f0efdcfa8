/* The calc program served by libtirpc with rpcgen's dispatch function (calc_svc.c, made
 * from calc.x at build time): the ONC RPC peer of the interop tests and of conveyor-bench. */
#ifndef CONVEYOR_CALC_ONC_H
#define CONVEYOR_CALC_ONC_H

#include <rpc/rpc.h>

#ifdef __cplusplus
extern "C" {
#endif

/* rpcgen -m's dispatch function, which calc.h does not declare. */
void calc_prog_1(struct svc_req *rqstp, SVCXPRT *transp);

/* Serves calc on 127.0.0.1 over protocol (IPPROTO_TCP or IPPROTO_UDP), any free port, under
 * program (and calc's version 1); with register_it, maps it in rpcbind (and removes the
 * mapping as it stops). Calls ready(port, arg) once it serves, then serves until *stop is
 * set (looked at every 100 ms). Returns 0, or -1 with a message on stderr. */
int calc_onc_serve(int protocol, unsigned long program, int register_it,
                   void (*ready)(unsigned short port, void *arg), void *arg,
                   volatile int *stop);

#ifdef __cplusplus
}
#endif

#endif
