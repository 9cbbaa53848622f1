/* gimp2.h - what the GIMP 2.10 plug-in's files share. */
#ifndef __NS_GIMP2_H__
#define __NS_GIMP2_H__

#include <libgimp/gimp.h>

#include "host.h"

G_BEGIN_DECLS

/* GIMP 2.10's API under the core (gimp2.c) */
extern const NsHostOps gimp2_ops;

/* A run's return values: the new layer (displays flushed unless
 * non-interactive), or the error's status and message (error freed). */
void ns_gimp2_return     (GimpRunMode       run_mode,
                          gint              layer,
                          GError           *error,
                          GimpParam        *values,
                          gint             *nreturn_vals);

/* Neural Style (Fast) (gimp2-fast.c): its procedure, and its run */
void ns_gimp2_fast_query (void);
void ns_gimp2_fast_run   (gint              nparams,
                          const GimpParam  *param,
                          gint             *nreturn_vals,
                          GimpParam       **return_vals);

G_END_DECLS

#endif /* __NS_GIMP2_H__ */
