/* gimp2.h - what the GIMP 2.10 plug-in's files share. */
#ifndef __NS_GIMP2_H__
#define __NS_GIMP2_H__

#include <gtk/gtk.h>
#include <libgimp/gimp.h>

#include "host.h"

G_BEGIN_DECLS

/* GIMP 2.10's API under the core (gimp2.c) */
extern const NsHostOps gimp2_ops;

/* A dialog's Reset button's response */
#define NS_GIMP2_RESPONSE_RESET 1

/* A GimpDialog with Help, Reset, Cancel and OK, transient to GIMP's
 * window (in the version's gimpui). */
GtkWidget * ns_gimp2_dialog_new (const gchar *title,
                                 const gchar *role,
                                 const gchar *help_id);

/* A run's return values: the new layer (displays flushed unless
 * non-interactive), or the error's status and message (error freed). */
void ns_gimp2_return     (GimpRunMode       run_mode,
                          gint              layer,
                          GError           *error,
                          GimpParam        *values,
                          gint             *nreturn_vals);

/* A table of settings (gimp2-rows.c): the argument list, first then the
 * rows (lives as long as the plug-in), and the arguments after n_first
 * into params; FALSE and an error when their count is wrong. */
GimpParamDef * ns_gimp2_row_defs  (const GimpParamDef  *first,
                                   gint                 n_first,
                                   const NsFastSetting *rows,
                                   gint                 n);
gboolean       ns_gimp2_read_rows (gint                 nparams,
                                   const GimpParam     *param,
                                   gint                 n_first,
                                   const NsFastSetting *rows,
                                   gint                 n,
                                   gpointer             params,
                                   GError             **error);

/* Neural Style (Fast) (gimp2-fast.c): its procedure, and its run */
void ns_gimp2_fast_query (void);
void ns_gimp2_fast_run   (gint              nparams,
                          const GimpParam  *param,
                          gint             *nreturn_vals,
                          GimpParam       **return_vals);

/* Train Neural Style (gimp2-train.c): its procedure, and its run */
void ns_gimp2_train_query (void);
void ns_gimp2_train_run   (gint              nparams,
                           const GimpParam  *param,
                           gint             *nreturn_vals,
                           GimpParam       **return_vals);

G_END_DECLS

#endif /* __NS_GIMP2_H__ */
