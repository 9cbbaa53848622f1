/* fast-dialog.h - the Neural Style (Fast) dialog, shared by the GIMP 2.10
 * (GTK 2) and 3.0 (GTK 3) plug-ins: the gallery of installed styles, a
 * live preview, Strength, Brush size and Keep colours.
 *
 * The version-specific code makes the GimpDialog (2.10) or
 * GimpProcedureDialog (3.0) and runs it; this fills it and keeps params
 * up to date.
 */
#ifndef __NS_FAST_DIALOG_H__
#define __NS_FAST_DIALOG_H__

#include <gtk/gtk.h>

#include "fast.h"

G_BEGIN_DECLS

typedef struct _NsFastDialog NsFastDialog;

/* The settings changed in the dialog (GIMP 3 keeps them in its config). */
typedef void (* NsFastChanged) (const NsFastParams *params,
                                gpointer            data);

/* Fills `dialog` for the photo's pixels (read now).  *ctx is opened on
 * params->device when NULL, for the preview and the run after OK.  With
 * no style installed the dialog says how to get one, and OK is off.
 * changed (may be NULL) hears of every change. */
NsFastDialog * ns_fast_dialog_new  (GtkWidget          *dialog,
                                    GeglBuffer         *photo,
                                    NsFastParams       *params,
                                    struct ns_context **ctx,
                                    NsFastChanged       changed,
                                    gpointer            data);

/* New settings from outside (Reset, saved settings): shown, previewed. */
void           ns_fast_dialog_set_params (NsFastDialog       *d,
                                          const NsFastParams *params);

/* Stops the preview and frees d (not the dialog). */
void           ns_fast_dialog_free (NsFastDialog       *d);

G_END_DECLS

#endif /* __NS_FAST_DIALOG_H__ */
