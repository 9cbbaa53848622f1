/* gimp3-train.c - GIMP 3.0: Filters > Artistic > Train Neural Style...
 *
 * PDB: plug-in-neural-style-train (run-mode, image, drawables: the
 * painting's layer, then the settings of train.c's table by name: name,
 * photos, steps, size, device "auto", "cpu" or "gpu") -> style, the name
 * plug-in-neural-style-fast takes.  Interactive: the dialog, then the
 * run's window (closing it leaves the run going); a script waits for the
 * end.
 */
#include "config.h"

#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>
#include <glib/gi18n-lib.h>

#include "gimp3.h"
#include "train-dialog.h"

typedef struct
{
  GimpProcedureConfig *config;
  NsTrainDialog       *dialog;
} Sync;

/* Reset and saved settings change the config: show them */
static void
config_changed (GObject    *config,
                GParamSpec *pspec,
                Sync       *s)
{
  NsTrainParams        p = ns_train_defaults ();
  gint                 n;
  const NsFastSetting *t = ns_train_settings (&n);

  if (! s->dialog)
    return;
  ns_gimp3_rows_from_config (s->config, t, n, &p);
  ns_train_dialog_set_params (s->dialog, &p);
}

static gboolean
show_dialog (GimpProcedure       *procedure,
             GimpProcedureConfig *config,
             gint                 painting,
             NsTrainParams       *p)
{
  GeglBuffer *pixels = gimp3_ops.buffer (painting);
  GdkPixbuf  *thumb  = gimp3_ops.thumbnail (painting, 128);
  Sync        sync   = { config, NULL };
  GtkWidget  *dialog;
  gboolean             ok;
  gint                 n;
  const NsFastSetting *t = ns_train_settings (&n);

  gimp_ui_init (PLUG_IN_BINARY);
  dialog = gimp_procedure_dialog_new (procedure, config, _("Train Neural Style"));
  sync.dialog = ns_train_dialog_new (dialog, pixels, thumb, p);
  g_signal_connect (config, "notify", G_CALLBACK (config_changed), &sync);
  ok = gimp_procedure_dialog_run (GIMP_PROCEDURE_DIALOG (dialog));
  g_signal_handlers_disconnect_by_func (config, config_changed, &sync);
  sync.dialog = NULL;
  if (ok)
    ns_gimp3_rows_to_config (p, t, n, config);
  gtk_widget_destroy (dialog);
  if (thumb)
    g_object_unref (thumb);
  g_object_unref (pixels);
  return ok;
}

static GimpValueArray *
train_run (GimpProcedure        *procedure,
           GimpRunMode           run_mode,
           GimpImage            *image,
           GimpDrawable        **drawables,
           GimpProcedureConfig  *config,
           gpointer              run_data)
{
  NsTrainParams        p        = ns_train_defaults ();
  GError              *error    = NULL;
  gint                 painting = -1, n;
  const NsFastSetting *t        = ns_train_settings (&n);
  GimpValueArray      *values;

  gegl_init (NULL, NULL);
  ns_gimp3_rows_from_config (config, t, n, &p);
  if (drawables && drawables[0] && ! drawables[1])
    painting = gimp_item_get_id (GIMP_ITEM (drawables[0]));
  if (run_mode == GIMP_RUN_INTERACTIVE && painting != -1)
    {
      ns_host_train_fill (&gimp3_ops, painting, &p);
      if (! show_dialog (procedure, config, painting, &p))
        return gimp_procedure_new_return_values (procedure, GIMP_PDB_CANCEL, NULL);
    }
  if (! ns_host_train (&gimp3_ops, painting, &p, run_mode == GIMP_RUN_INTERACTIVE, &error))
    return gimp_procedure_new_return_values (procedure, ns_host_status_of (error), error);
  values = gimp_procedure_new_return_values (procedure, GIMP_PDB_SUCCESS, NULL);
  GIMP_VALUES_SET_STRING (values, 1, p.name);
  return values;
}

GimpProcedure *
ns_gimp3_train_procedure (GimpPlugIn *plug_in)
{
  GimpProcedure       *procedure = gimp_image_procedure_new (plug_in, NS_TRAIN_PROC, GIMP_PDB_PROC_TYPE_PLUGIN,
                                                             train_run, NULL, NULL);
  gint                 n;
  const NsFastSetting *t = ns_train_settings (&n);

  gimp_procedure_set_image_types (procedure, "RGB*, GRAY*");
  gimp_procedure_set_sensitivity_mask (procedure, GIMP_PROCEDURE_SENSITIVE_DRAWABLE);
  gimp_procedure_set_menu_label (procedure, _("Train Ne_ural Style..."));
  gimp_procedure_add_menu_path (procedure, "<Image>/Filters/Artistic");
  gimp_procedure_set_documentation (procedure,
                                    _("Learn a fast style from a painting, on a folder of your photos"),
                                    "Trains a feed-forward style network (Johnson et al. 2016, "
                                    "with instance normalisation) on the selected layer's "
                                    "painting and the photos of a folder, with the exact "
                                    "method's objective through VGG-19. The training runs as a "
                                    "process of its own (the neural-style command line installed "
                                    "beside the plug-in): interactive runs show its progress in "
                                    "a window that may be closed, scripts wait for the end. "
                                    "Stopping keeps a checkpoint that the next training of the "
                                    "same name resumes. The style lands in the styles folder, "
                                    "where Neural Style (Fast) lists it.",
                                    NS_TRAIN_PROC);
  gimp_procedure_set_attribution (procedure, "Neural Style for GIMP developers",
                                  "Neural Style for GIMP developers", "2026");
  ns_gimp3_add_rows (procedure, t, n);
  gimp_procedure_add_string_return_value (procedure, "style", _("Style"),
                                          _("The new style's name, for plug-in-neural-style-fast"),
                                          "", G_PARAM_READWRITE);
  return procedure;
}
