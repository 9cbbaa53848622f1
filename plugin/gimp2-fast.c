/* gimp2-fast.c - GIMP 2.10: Filters > Artistic > Neural Style (Fast)...
 *
 * PDB: plug-in-neural-style-fast (run-mode, image, drawable, then the
 * settings in fast.c's table order: style, strength, brush-size,
 * keep-colors, device) -> new-layer
 */
#include "config.h"

#include <string.h>

#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>
#include <glib/gi18n-lib.h>

#include "fast-dialog.h"
#include "gimp2.h"
#include "remember.h"

#define ARGS_BEFORE    3  /* run-mode, image, drawable */

void
ns_gimp2_fast_query (void)
{
  static const GimpParamDef first[ARGS_BEFORE] =
  {
    { GIMP_PDB_INT32,    "run-mode", "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1) }" },
    { GIMP_PDB_IMAGE,    "image",    "Input image" },
    { GIMP_PDB_DRAWABLE, "drawable", "The photo: the layer to restyle" }
  };
  static const GimpParamDef return_vals[] =
  {
    { GIMP_PDB_LAYER, "new-layer", "The restyled layer, above the photo" }
  };
  gint                 n;
  const NsFastSetting *t    = ns_fast_settings (&n);
  GimpParamDef        *args = ns_gimp2_row_defs (first, ARGS_BEFORE, t, n);

  gimp_install_procedure (NS_FAST_PROC,
                          N_("Restyle a photo in seconds with a trained style network"),
                          "Runs a fast style's feed-forward network (Johnson et al. 2016, "
                          "with instance normalisation) over the layer at its full size. "
                          "The result lands in a new layer above the photo; with a "
                          "selection only the selected part is restyled. Styles are "
                          "installed with ./install.sh --styles; neural-style --list-styles "
                          "lists their names.",
                          "Neural Style for GIMP developers",
                          "Neural Style for GIMP developers",
                          "2026",
                          N_("Neural Style (Fas_t)..."),
                          "RGB*, GRAY*",
                          GIMP_PLUGIN,
                          ARGS_BEFORE + n, G_N_ELEMENTS (return_vals),
                          args, return_vals);
  gimp_plugin_menu_register (NS_FAST_PROC, "<Image>/Filters/Artistic");
}

static gboolean
show_dialog (gint                photo,
             NsFastParams       *p,
             struct ns_context **ctx)
{
  GeglBuffer   *pixels = gimp_drawable_get_buffer (photo);
  NsFastDialog *d;
  GtkWidget    *dialog;
  gint          response;

  gimp_ui_init (PLUG_IN_BINARY, FALSE);
  dialog = ns_gimp2_dialog_new (_("Neural Style (Fast)"), PLUG_IN_ROLE "-fast", NS_FAST_PROC);

  d = ns_fast_dialog_new (dialog, pixels, p, ctx, NULL, NULL);
  gtk_widget_show (dialog);
  while ((response = gimp_dialog_run (GIMP_DIALOG (dialog))) == NS_GIMP2_RESPONSE_RESET)
    {
      NsFastParams defaults = ns_fast_defaults ();

      ns_fast_dialog_set_params (d, &defaults);
    }
  ns_fast_dialog_free (d);
  gtk_widget_destroy (dialog);
  g_object_unref (pixels);
  return response == GTK_RESPONSE_OK;
}

void
ns_gimp2_fast_run (gint              nparams,
                   const GimpParam  *param,
                   gint             *nreturn_vals,
                   GimpParam       **return_vals)
{
  static GimpParam   values[2];
  GimpRunMode        run_mode = param[0].data.d_int32;
  gint32             image    = param[1].data.d_image;
  gint               photo    = ns_host_photo_of (&gimp2_ops, param[2].data.d_drawable);
  NsFastParams       p        = ns_fast_defaults ();
  struct ns_context *ctx      = NULL;
  GError            *error    = NULL;
  gint               layer    = -1;
  gchar             *remember = g_build_filename (gimp_directory (), NS_REMEMBER_FAST_FILE, NULL);
  gint               n;
  const NsFastSetting *t      = ns_fast_settings (&n);

  *nreturn_vals = 1;
  *return_vals  = values;
  values[0].type          = GIMP_PDB_STATUS;
  values[0].data.d_status = GIMP_PDB_SUCCESS;

  if (run_mode != GIMP_RUN_NONINTERACTIVE)
    {
      /* the last session's settings, then this session's (GIMP 2.10's
       * gimp_set_data lasts one session) */
      ns_remember_rows_load (t, n, &p, NS_REMEMBER_FAST_GROUP, remember);
      if (gimp_get_data_size (NS_FAST_PROC) == sizeof p)
        gimp_get_data (NS_FAST_PROC, &p);
    }
  if (run_mode == GIMP_RUN_NONINTERACTIVE)
    ns_gimp2_read_rows (nparams, param, ARGS_BEFORE, t, n, &p, &error);
  else if (run_mode == GIMP_RUN_INTERACTIVE && (photo == -1 || ! show_dialog (photo, &p, &ctx)))
    {
      if (photo == -1)
        g_message (_("Neural Style restyles a layer: select the photo's layer (not a channel "
                     "or a mask) and try again."));
      ns_context_free (ctx);
      values[0].data.d_status = GIMP_PDB_CANCEL;
      g_free (remember);
      return;
    }

  if (! error)
    layer = ns_host_run_fast (&gimp2_ops, image, photo, &p, &ctx, &error);
  ns_context_free (ctx);
  if (layer != -1 && run_mode != GIMP_RUN_NONINTERACTIVE)
    {
      gimp_set_data (NS_FAST_PROC, &p, sizeof p);
      ns_remember_rows_save (t, n, &p, NS_REMEMBER_FAST_GROUP,
                             " Neural Style (Fast)'s last settings, written by the plug-in", remember,
                             NULL);  /* a failure costs only the memory */
    }
  ns_gimp2_return (run_mode, layer, error, values, nreturn_vals);
  g_free (remember);
}
