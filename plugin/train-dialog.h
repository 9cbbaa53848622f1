/* train-dialog.h - the Train Neural Style dialog and its progress window,
 * shared by the GIMP 2.10 (GTK 2) and 3.0 (GTK 3) plug-ins: the painting,
 * the new style's name, the photos' folder, Quick / Good / Best with
 * their times on this machine, the crop size and the device; then the
 * run's steps, time left, newest sample, Stop and Close.
 */
#ifndef __NS_TRAIN_DIALOG_H__
#define __NS_TRAIN_DIALOG_H__

#include <gtk/gtk.h>

#include "train.h"

G_BEGIN_DECLS

typedef struct _NsTrainDialog NsTrainDialog;

/* Fills `dialog` for the painting (its pixels: the estimate measures on
 * them the first time); params are the caller's and kept up to date. */
NsTrainDialog * ns_train_dialog_new        (GtkWidget           *dialog,
                                            GeglBuffer          *painting,
                                            GdkPixbuf           *thumbnail,
                                            NsTrainParams       *params);
/* New settings from outside (Reset, saved settings). */
void            ns_train_dialog_set_params (NsTrainDialog       *d,
                                            const NsTrainParams *params);
void            ns_train_dialog_free       (NsTrainDialog       *d);

/* The run's window until it ends or the photographer closes it (the run
 * goes on in the background): the last state seen. */
NsTrainState    ns_train_progress_run      (NsTrainJob          *job,
                                            const gchar         *name);

G_END_DECLS

#endif /* __NS_TRAIN_DIALOG_H__ */
