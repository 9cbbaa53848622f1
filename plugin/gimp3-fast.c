/* gimp3-fast.c - GIMP 3.0: Filters > Artistic > Neural Style (Fast)...
 *
 * PDB: plug-in-neural-style-fast (run-mode, image, drawables, then the
 * settings of fast.c's table by name: style, strength, brush-size,
 * keep-colors, device "auto", "cpu" or "gpu") -> new-layer
 */
#include "config.h"

#include <string.h>

#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>
#include <glib/gi18n-lib.h>

#include "fast-dialog.h"
#include "gimp3.h"

static NsFastParams
params_from_config (GimpProcedureConfig *config)
{
  NsFastParams         p = ns_fast_defaults ();
  gint                 n;
  const NsFastSetting *t = ns_fast_settings (&n);

  ns_gimp3_rows_from_config (config, t, n, &p);
  return p;
}

/* The dialog's choices into the config, which GIMP keeps as the last
 * values. */
static void
params_to_config (const NsFastParams  *p,
                  GimpProcedureConfig *config)
{
  gint                 n;
  const NsFastSetting *t = ns_fast_settings (&n);

  ns_gimp3_rows_to_config (p, t, n, config);
}

typedef struct
{
  GimpProcedureConfig *config;
  NsFastDialog        *dialog;
  gboolean             pushing;  /* the dialog is writing the config */
} Sync;

static void
dialog_changed (const NsFastParams *p,
                gpointer            data)
{
  Sync *s = data;

  s->pushing = TRUE;
  params_to_config (p, s->config);
  s->pushing = FALSE;
}

/* Reset and saved settings change the config: show them */
static void
config_changed (GObject    *config,
                GParamSpec *pspec,
                Sync       *s)
{
  NsFastParams p;

  if (s->pushing || ! s->dialog)
    return;
  p = params_from_config (s->config);
  ns_fast_dialog_set_params (s->dialog, &p);
}

static gboolean
show_dialog (GimpProcedure       *procedure,
             GimpProcedureConfig *config,
             gint                 photo,
             NsFastParams        *p,
             struct ns_context  **ctx)
{
  GeglBuffer   *pixels = gimp_drawable_get_buffer (GIMP_DRAWABLE (gimp_item_get_by_id (photo)));
  Sync          sync   = { config, NULL, FALSE };
  GtkWidget    *dialog;
  gboolean      ok;

  gimp_ui_init (PLUG_IN_BINARY);
  dialog = gimp_procedure_dialog_new (procedure, config, _("Neural Style (Fast)"));
  sync.dialog = ns_fast_dialog_new (dialog, pixels, p, ctx, dialog_changed, &sync);
  g_signal_connect (config, "notify", G_CALLBACK (config_changed), &sync);
  ok = gimp_procedure_dialog_run (GIMP_PROCEDURE_DIALOG (dialog));
  g_signal_handlers_disconnect_by_func (config, config_changed, &sync);
  ns_fast_dialog_free (sync.dialog);
  gtk_widget_destroy (dialog);
  g_object_unref (pixels);
  if (ok)
    params_to_config (p, config);
  return ok;
}

static GimpValueArray *
fast_run (GimpProcedure        *procedure,
          GimpRunMode           run_mode,
          GimpImage            *image,
          GimpDrawable        **drawables,
          GimpProcedureConfig  *config,
          gpointer              run_data)
{
  NsFastParams       p     = params_from_config (config);
  struct ns_context *ctx   = NULL;
  GError            *error = NULL;
  gint               photo = -1, layer;

  gegl_init (NULL, NULL);
  /* one photo: the selected layer (a mask stands for its layer) */
  if (drawables && drawables[0] && ! drawables[1])
    photo = ns_host_photo_of (&gimp3_ops, gimp_item_get_id (GIMP_ITEM (drawables[0])));
  if (run_mode == GIMP_RUN_INTERACTIVE)
    {
      if (photo == -1)
        {
          g_set_error_literal (&error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_INVALID,
                               _("Neural Style restyles a layer: select the photo's layer (not a channel "
                                 "or a mask) and try again."));
          return gimp_procedure_new_return_values (procedure, GIMP_PDB_CALLING_ERROR, error);
        }
      if (! show_dialog (procedure, config, photo, &p, &ctx))
        {
          ns_context_free (ctx);
          return gimp_procedure_new_return_values (procedure, GIMP_PDB_CANCEL, NULL);
        }
    }

  layer = ns_host_run_fast (&gimp3_ops, gimp_image_get_id (image), photo, &p, &ctx, &error);
  ns_context_free (ctx);
  return ns_gimp3_return (procedure, run_mode, layer, error);
}

GimpProcedure *
ns_gimp3_fast_procedure (GimpPlugIn *plug_in)
{
  GimpProcedure       *procedure = gimp_image_procedure_new (plug_in, NS_FAST_PROC, GIMP_PDB_PROC_TYPE_PLUGIN,
                                                             fast_run, NULL, NULL);
  gint                 n;
  const NsFastSetting *t = ns_fast_settings (&n);

  gimp_procedure_set_image_types (procedure, "RGB*, GRAY*");
  gimp_procedure_set_sensitivity_mask (procedure, GIMP_PROCEDURE_SENSITIVE_DRAWABLE);
  gimp_procedure_set_menu_label (procedure, _("Neural Style (Fas_t)..."));
  gimp_procedure_add_menu_path (procedure, "<Image>/Filters/Artistic");
  gimp_procedure_set_documentation (procedure,
                                    _("Restyle a photo in seconds with a trained style network"),
                                    "Runs a fast style's feed-forward network (Johnson et al. "
                                    "2016, with instance normalisation) over the layer at its "
                                    "full size. The result lands in a new layer above the "
                                    "photo; with a selection only the selected part is "
                                    "restyled. Styles are installed with ./install.sh --styles; "
                                    "neural-style --list-styles lists their names.",
                                    NS_FAST_PROC);
  gimp_procedure_set_attribution (procedure, "Neural Style for GIMP developers",
                                  "Neural Style for GIMP developers", "2026");
  ns_gimp3_add_rows (procedure, t, n);
  gimp_procedure_add_layer_return_value (procedure, "new-layer", _("New layer"),
                                         _("The restyled layer, above the photo"),
                                         FALSE, G_PARAM_READWRITE);
  return procedure;
}
