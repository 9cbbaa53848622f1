/* gimp3.h - what the GIMP 3.0 plug-in's files share. */
#ifndef __NS_GIMP3_H__
#define __NS_GIMP3_H__

#include <libgimp/gimp.h>

#include "host.h"

G_BEGIN_DECLS

/* GIMP 3's API under the core (gimp3.c) */
extern const NsHostOps gimp3_ops;

/* A run's return values: the new layer (displays flushed unless
 * non-interactive), or the error's status and the error (taken). */
GimpValueArray * ns_gimp3_return (GimpProcedure *procedure,
                                  GimpRunMode    run_mode,
                                  gint           layer,
                                  GError        *error);

/* A table of settings (gimp3-rows.c): its rows as the procedure's
 * arguments, the config into params and params into the config (numbers
 * clamped to their ranges). */
void ns_gimp3_add_rows         (GimpProcedure       *procedure,
                                const NsFastSetting *rows,
                                gint                 n);
void ns_gimp3_rows_from_config (GimpProcedureConfig *config,
                                const NsFastSetting *rows,
                                gint                 n,
                                gpointer             params);
void ns_gimp3_rows_to_config   (gconstpointer        params,
                                const NsFastSetting *rows,
                                gint                 n,
                                GimpProcedureConfig *config);

/* Neural Style (Fast) (gimp3-fast.c) and Train Neural Style
 * (gimp3-train.c): their procedures */
GimpProcedure * ns_gimp3_fast_procedure  (GimpPlugIn *plug_in);
GimpProcedure * ns_gimp3_train_procedure (GimpPlugIn *plug_in);

G_END_DECLS

#endif /* __NS_GIMP3_H__ */
