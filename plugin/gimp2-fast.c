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
#define RESPONSE_RESET 1

static GimpPDBArgType
arg_type (const NsFastSetting *s)
{
  switch (s->type)
    {
    case NS_FAST_TEXT:   return GIMP_PDB_STRING;
    case NS_FAST_NUMBER: return GIMP_PDB_FLOAT;
    default:             return GIMP_PDB_INT32;
    }
}

/* The help, with the range or the choices' numbers (the procedure
 * browser shows it as written).  Lives as long as the plug-in. */
static gchar *
arg_blurb (const NsFastSetting *s)
{
  const gchar *const *nicks = ns_restyle_device_choices (NULL);
  GString            *text  = g_string_new (s->help);
  gint                k;

  if (s->type == NS_FAST_NUMBER)
    g_string_append_printf (text, " (%g..%g)", s->min, s->max);
  else if (s->type == NS_FAST_BOOL)
    g_string_append (text, " { FALSE (0), TRUE (1) }");
  else if (s->type == NS_FAST_DEVICE)
    {
      for (k = 0; nicks[k]; k++)
        g_string_append_printf (text, "%s%s (%d)", k ? ", " : " { ", nicks[k], k);
      g_string_append (text, " }");
    }
  return g_string_free (text, FALSE);
}

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
  gint                 n, i;
  const NsFastSetting *t    = ns_fast_settings (&n);
  GimpParamDef        *args = g_new0 (GimpParamDef, ARGS_BEFORE + n);

  memcpy (args, first, sizeof first);
  for (i = 0; i < n; i++)
    {
      args[ARGS_BEFORE + i].type        = arg_type (&t[i]);
      args[ARGS_BEFORE + i].name        = (gchar *) t[i].name;
      args[ARGS_BEFORE + i].description = arg_blurb (&t[i]);
    }
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
  dialog = gimp_dialog_new (_("Neural Style (Fast)"), PLUG_IN_ROLE "-fast", NULL, 0,
                            gimp_standard_help_func, NS_FAST_PROC,
                            _("_Reset"),  RESPONSE_RESET,
                            _("_Cancel"), GTK_RESPONSE_CANCEL,
                            _("_OK"),     GTK_RESPONSE_OK,
                            NULL);
  gtk_dialog_set_alternative_button_order (GTK_DIALOG (dialog), RESPONSE_RESET, GTK_RESPONSE_OK,
                                           GTK_RESPONSE_CANCEL, -1);
  gimp_window_set_transient (GTK_WINDOW (dialog));

  d = ns_fast_dialog_new (dialog, pixels, p, ctx, NULL, NULL);
  gtk_widget_show (dialog);
  while ((response = gimp_dialog_run (GIMP_DIALOG (dialog))) == RESPONSE_RESET)
    {
      NsFastParams defaults = ns_fast_defaults ();

      ns_fast_dialog_set_params (d, &defaults);
    }
  ns_fast_dialog_free (d);
  gtk_widget_destroy (dialog);
  g_object_unref (pixels);
  return response == GTK_RESPONSE_OK;
}

/* The arguments into p; FALSE and an error when their count is wrong. */
static gboolean
read_args (gint             nparams,
           const GimpParam *param,
           NsFastParams    *p,
           GError         **error)
{
  gint                 n, i;
  const NsFastSetting *t = ns_fast_settings (&n);

  if (nparams != ARGS_BEFORE + n)
    {
      g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_INVALID,
                   _("Neural Style takes %d arguments, not %d."), ARGS_BEFORE + n, nparams);
      return FALSE;
    }
  for (i = 0; i < n; i++)
    {
      const GimpParam *a = &param[ARGS_BEFORE + i];

      if (t[i].type == NS_FAST_TEXT)
        ns_fast_set_style (p, a->data.d_string);
      else
        ns_fast_set (p, &t[i], t[i].type == NS_FAST_NUMBER ? a->data.d_float : a->data.d_int32);
    }
  return TRUE;
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

  *nreturn_vals = 1;
  *return_vals  = values;
  values[0].type          = GIMP_PDB_STATUS;
  values[0].data.d_status = GIMP_PDB_SUCCESS;

  if (run_mode != GIMP_RUN_NONINTERACTIVE)
    {
      /* the last session's settings, then this session's (GIMP 2.10's
       * gimp_set_data lasts one session) */
      ns_remember_fast_load (&p, remember);
      if (gimp_get_data_size (NS_FAST_PROC) == sizeof p)
        gimp_get_data (NS_FAST_PROC, &p);
    }
  if (run_mode == GIMP_RUN_NONINTERACTIVE)
    read_args (nparams, param, &p, &error);
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
      ns_remember_fast_save (&p, remember, NULL);  /* a failure costs only the memory */
    }
  ns_gimp2_return (run_mode, layer, error, values, nreturn_vals);
  g_free (remember);
}
