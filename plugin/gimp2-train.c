/* gimp2-train.c - GIMP 2.10: Filters > Artistic > Train Neural Style...
 *
 * PDB: plug-in-neural-style-train (run-mode, image, drawable: the
 * painting's layer, then the settings in train.c's table order: name,
 * photos, steps, size, device) -> style, the name plug-in-neural-style-fast
 * takes.  Interactive: the dialog, then the run's window (closing it
 * leaves the run going); a script waits for the end.
 */
#include "config.h"

#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>
#include <glib/gi18n-lib.h>

#include "gimp2.h"
#include "remember.h"
#include "train-dialog.h"

#define ARGS_BEFORE    3  /* run-mode, image, drawable */

void
ns_gimp2_train_query (void)
{
  static const GimpParamDef first[ARGS_BEFORE] =
  {
    { GIMP_PDB_INT32,    "run-mode", "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1) }" },
    { GIMP_PDB_IMAGE,    "image",    "Input image" },
    { GIMP_PDB_DRAWABLE, "drawable", "The painting: the layer to learn the style of" }
  };
  static const GimpParamDef return_vals[] =
  {
    { GIMP_PDB_STRING, "style", "The new style's name, for plug-in-neural-style-fast" }
  };
  gint                 n;
  const NsFastSetting *t    = ns_train_settings (&n);
  GimpParamDef        *args = ns_gimp2_row_defs (first, ARGS_BEFORE, t, n);

  gimp_install_procedure (NS_TRAIN_PROC,
                          N_("Learn a fast style from a painting, on a folder of your photos"),
                          "Trains a feed-forward style network (Johnson et al. 2016, with "
                          "instance normalisation) on the layer's painting and the photos of "
                          "a folder, with the exact method's objective through VGG-19. The "
                          "training runs as a process of its own (the neural-style command "
                          "line installed beside the plug-in): interactive runs show its "
                          "progress in a window that may be closed, scripts wait for the end. "
                          "Stopping keeps a checkpoint that the next training of the same "
                          "name resumes. The style lands in the styles folder, where Neural "
                          "Style (Fast) lists it.",
                          "Neural Style for GIMP developers",
                          "Neural Style for GIMP developers",
                          "2026",
                          N_("Train Ne_ural Style..."),
                          "RGB*, GRAY*",
                          GIMP_PLUGIN,
                          ARGS_BEFORE + n, G_N_ELEMENTS (return_vals),
                          args, return_vals);
  gimp_plugin_menu_register (NS_TRAIN_PROC, "<Image>/Filters/Artistic");
}

static gboolean
show_dialog (gint           painting,
             NsTrainParams *p)
{
  GeglBuffer    *pixels = gimp2_ops.buffer (painting);
  GdkPixbuf     *thumb  = gimp2_ops.thumbnail (painting, 128);
  NsTrainDialog *d;
  GtkWidget     *dialog;
  gint           response;

  gimp_ui_init (PLUG_IN_BINARY, FALSE);
  dialog = ns_gimp2_dialog_new (_("Train Neural Style"), PLUG_IN_ROLE "-train", NS_TRAIN_PROC);

  d = ns_train_dialog_new (dialog, pixels, thumb, p);
  gtk_widget_show (dialog);
  while ((response = gimp_dialog_run (GIMP_DIALOG (dialog))) == NS_GIMP2_RESPONSE_RESET)
    {
      NsTrainParams defaults = ns_train_defaults ();

      ns_host_train_fill (&gimp2_ops, painting, &defaults);
      ns_train_dialog_set_params (d, &defaults);
    }
  ns_train_dialog_free (d);
  gtk_widget_destroy (dialog);
  if (thumb)
    g_object_unref (thumb);
  g_object_unref (pixels);
  return response == GTK_RESPONSE_OK;
}

void
ns_gimp2_train_run (gint              nparams,
                    const GimpParam  *param,
                    gint             *nreturn_vals,
                    GimpParam       **return_vals)
{
  static GimpParam     values[2];
  static gchar         style[NS_RESTYLE_TEXT_LEN];
  GimpRunMode          run_mode = param[0].data.d_int32;
  gint                 painting = param[2].data.d_drawable;
  NsTrainParams        p        = ns_train_defaults ();
  GError              *error    = NULL;
  gchar               *remember = g_build_filename (gimp_directory (), NS_REMEMBER_TRAIN_FILE, NULL);
  gint                 n;
  const NsFastSetting *t        = ns_train_settings (&n);

  *nreturn_vals = 1;
  *return_vals  = values;
  values[0].type          = GIMP_PDB_STATUS;
  values[0].data.d_status = GIMP_PDB_SUCCESS;

  if (run_mode == GIMP_RUN_NONINTERACTIVE)
    ns_gimp2_read_rows (nparams, param, ARGS_BEFORE, t, n, &p, &error);
  else
    {
      /* the last session's settings */
      ns_remember_rows_load (t, n, &p, NS_REMEMBER_TRAIN_GROUP, remember);
      ns_host_train_fill (&gimp2_ops, painting, &p);
    }
  if (run_mode == GIMP_RUN_INTERACTIVE && ! show_dialog (painting, &p))
    {
      values[0].data.d_status = GIMP_PDB_CANCEL;
      g_free (remember);
      return;
    }
  if (run_mode != GIMP_RUN_NONINTERACTIVE)
    ns_remember_rows_save (t, n, &p, NS_REMEMBER_TRAIN_GROUP,
                           " Train Neural Style's last settings, written by the plug-in", remember,
                           NULL);  /* a failure costs only the memory */
  g_free (remember);

  if (! error)
    ns_host_train (&gimp2_ops, painting, &p, run_mode == GIMP_RUN_INTERACTIVE, &error);
  *nreturn_vals = 2;
  if (error)
    {
      values[0].data.d_status = ns_host_status_of (error);
      values[1].type          = GIMP_PDB_STRING;
      values[1].data.d_string = g_strdup (error->message);
      g_error_free (error);
      return;
    }
  g_strlcpy (style, p.name, sizeof style);
  values[1].type          = GIMP_PDB_STRING;
  values[1].data.d_string = style;
}
