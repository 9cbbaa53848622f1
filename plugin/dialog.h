/* dialog.h - the Neural Style dialog, shared by the GIMP 2.10 (GTK 2) and
 * 3.0 (GTK 3) plug-ins: photo and painting, strength, brush size, colours,
 * quality, the estimate, a preview and the advanced settings.
 *
 * The version-specific code makes the GimpDialog (2.10) or
 * GimpProcedureDialog (3.0) and runs it; this fills it and keeps the
 * settings, the chosen layers and the engine context up to date.
 */
#ifndef __NS_DIALOG_H__
#define __NS_DIALOG_H__

#include <gtk/gtk.h>

#include "layers.h"
#include "restyle.h"

G_BEGIN_DECLS

typedef struct _NsDialog NsDialog;

typedef struct
{
  /* the layer's pixels, a new reference */
  GeglBuffer * (* buffer)    (gint                   layer_id);
  /* its thumbnail, at most size px */
  GdkPixbuf  * (* thumbnail) (gint                   layer_id,
                              gint                   size);
  /* the settings changed (GIMP 3 stores them in its config); may be NULL */
  void         (* changed)   (const NsRestyleParams *params,
                              gpointer               data);
  gpointer     data;
} NsDialogHost;

/* Fills `dialog`.  params, content, styles and channels (NS_MAX_PAINTINGS
 * each: the paintings' layers and their region channels, -1 = none) are
 * the caller's and are kept up to date; *ctx is the engine opened for the chosen device (reopened
 * when the device changes; NULL when the weights are missing), for the run
 * after OK. */
NsDialog * ns_dialog_new        (GtkWidget           *dialog,
                                 const NsDialogHost  *host,
                                 const NsLayerList   *layers,
                                 NsRestyleParams     *params,
                                 gint                *content,
                                 gint                *styles,
                                 gint                *channels,
                                 struct ns_context  **ctx);

/* New settings from outside (GIMP 3's Reset and saved settings). */
void       ns_dialog_set_params (NsDialog            *d,
                                 const NsRestyleParams *params);

/* Stops a running preview and frees d (not the dialog). */
void       ns_dialog_free       (NsDialog            *d);

G_END_DECLS

#endif /* __NS_DIALOG_H__ */
