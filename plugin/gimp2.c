/* gimp2.c - the GIMP 2.10 plug-in: Filters > Artistic > Neural Style...
 *
 * PDB: plug-in-neural-style (run-mode, image, drawable, style-layer,
 * iterations, size, content-weight, style-weight, tv-weight, optimizer,
 * init, preserve-colors, style-scale, seed, device) -> new-layer
 */
#include "config.h"

#include <string.h>

#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>
#include <glib/gi18n-lib.h>

#include "ns.h"
#include "restyle.h"

#define N_ARGS 15

typedef struct
{
  NsRestyleParams params;
  gint32          style_layer;
} LastValues;

static void query (void);
static void run   (const gchar      *name,
                   gint              nparams,
                   const GimpParam  *param,
                   gint             *nreturn_vals,
                   GimpParam       **return_vals);

const GimpPlugInInfo PLUG_IN_INFO =
{
  NULL,
  NULL,
  query,
  run
};

MAIN ()

static gchar *
locale_dir (void)
{
  gchar *exe = g_file_read_link ("/proc/self/exe", NULL);
  gchar *dir = exe ? g_path_get_dirname (exe) : g_strdup (".");
  gchar *loc = g_build_filename (dir, "locale", NULL);

  g_free (dir);
  g_free (exe);
  return loc;
}

static void
query (void)
{
  static const GimpParamDef args[] =
  {
    { GIMP_PDB_INT32,    "run-mode",        "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1) }" },
    { GIMP_PDB_IMAGE,    "image",           "Input image" },
    { GIMP_PDB_DRAWABLE, "drawable",        "The content layer" },
    { GIMP_PDB_LAYER,    "style-layer",     "The style layer (another layer of the same image)" },
    { GIMP_PDB_INT32,    "iterations",      "Optimization iterations (0-100000)" },
    { GIMP_PDB_INT32,    "size",            "Longest side to optimize at, in pixels (0 = the layer's own)" },
    { GIMP_PDB_FLOAT,    "content-weight",  "Content loss weight (>= 0)" },
    { GIMP_PDB_FLOAT,    "style-weight",    "Style loss weight (>= 0)" },
    { GIMP_PDB_FLOAT,    "tv-weight",       "Total-variation (smoothness) weight (>= 0)" },
    { GIMP_PDB_INT32,    "optimizer",       "Optimizer { L-BFGS (0), Adam (1) }" },
    { GIMP_PDB_INT32,    "init",            "Start from { content (0), noise (1) }" },
    { GIMP_PDB_INT32,    "preserve-colors", "Keep the content's colors { FALSE (0), TRUE (1) }" },
    { GIMP_PDB_FLOAT,    "style-scale",     "Style image size relative to the content (0.05-8)" },
    { GIMP_PDB_INT32,    "seed",            "Random seed (for noise)" },
    { GIMP_PDB_INT32,    "device",          "Device { auto (0), CPU (1), GPU (2) }" }
  };
  static const GimpParamDef return_vals[] =
  {
    { GIMP_PDB_LAYER, "new-layer", "The restyled layer, above the content layer" }
  };
  gchar *loc = locale_dir ();

  gimp_plugin_domain_register (GETTEXT_PACKAGE, loc);
  g_free (loc);

  gimp_install_procedure (PLUG_IN_PROC,
                          N_("Restyle a layer after a painting (neural style transfer)"),
                          "Optimizes a new layer so that its VGG-19 features match the "
                          "content layer and its Gram matrices match the style layer "
                          "(Gatys, Ecker & Bethge 2016). The result lands in a new layer "
                          "above the content layer; with a selection only the selected "
                          "part is restyled.",
                          "Neural Style for GIMP developers",
                          "Neural Style for GIMP developers",
                          "2026",
                          N_("_Neural Style..."),
                          "RGB*, GRAY*",
                          GIMP_PLUGIN,
                          G_N_ELEMENTS (args), G_N_ELEMENTS (return_vals),
                          args, return_vals);

  gimp_plugin_menu_register (PLUG_IN_PROC, "<Image>/Filters/Artistic");
}

/* ---- dialog ---- */

typedef struct
{
  LastValues *vals;
  gint32      image;
  gint32      content;
  GtkWidget  *estimate;
  struct ns_context *ctx;
} Dialog;

static gboolean
style_constraint (gint32   image_id,
                  gint32   item_id,
                  gpointer data)
{
  Dialog *d = data;

  return image_id == d->image && item_id != d->content;
}

static void
update_estimate (Dialog *d)
{
  gint   sw = 0, sh = 0;
  gchar *text;

  if (gimp_item_is_valid (d->vals->style_layer))
    {
      sw = gimp_drawable_width (d->vals->style_layer);
      sh = gimp_drawable_height (d->vals->style_layer);
    }
  text = ns_restyle_estimate (d->ctx, &d->vals->params,
                              gimp_drawable_width (d->content),
                              gimp_drawable_height (d->content), sw, sh);
  gtk_label_set_text (GTK_LABEL (d->estimate), text);
  g_free (text);
}

static void
int_changed (GtkAdjustment *adj,
             gint          *value)
{
  Dialog *d = g_object_get_data (G_OBJECT (adj), "dialog");

  *value = (gint) (gtk_adjustment_get_value (adj) + 0.5);
  update_estimate (d);
}

static void
double_changed (GtkAdjustment *adj,
                gdouble       *value)
{
  Dialog *d = g_object_get_data (G_OBJECT (adj), "dialog");

  *value = gtk_adjustment_get_value (adj);
  update_estimate (d);
}

static void
combo_changed (GtkWidget *combo,
               gint      *value)
{
  Dialog *d = g_object_get_data (G_OBJECT (combo), "dialog");

  gimp_int_combo_box_get_active (GIMP_INT_COMBO_BOX (combo), value);
  update_estimate (d);
}

static void
scale_row (Dialog      *d,
           GtkTable    *table,
           gint         row,
           const gchar *label,
           gdouble      value,
           gdouble      lower,
           gdouble      upper,
           guint        digits,
           const gchar *tooltip,
           GCallback    callback,
           gpointer     target)
{
  GtkObject *adj = gimp_scale_entry_new (table, 0, row, label, 200, 7, value, lower, upper,
                                         digits ? 0.1 : 1, digits ? 1 : 10, digits,
                                         FALSE, lower, upper * 1000, tooltip, NULL);

  g_object_set_data (G_OBJECT (adj), "dialog", d);
  g_signal_connect (adj, "value-changed", callback, target);
}

static GtkWidget *
combo_row (Dialog      *d,
           GtkTable    *table,
           gint         row,
           const gchar *label,
           GtkWidget   *combo,
           gint        *value)
{
  gimp_int_combo_box_set_active (GIMP_INT_COMBO_BOX (combo), *value);
  g_object_set_data (G_OBJECT (combo), "dialog", d);
  g_signal_connect (combo, "changed", G_CALLBACK (combo_changed), value);
  gimp_table_attach_aligned (table, 0, row, label, 0.0, 0.5, combo, 2, FALSE);
  return combo;
}

static void
toggle_changed (GtkToggleButton *button,
                gboolean        *value)
{
  *value = gtk_toggle_button_get_active (button);
}

static gboolean
show_dialog (LastValues *vals,
             gint32      image,
             gint32      content)
{
  Dialog     d = { vals, image, content, NULL, NULL };
  GtkWidget *dialog;
  GtkWidget *vbox;
  GtkWidget *table;
  GtkWidget *combo;
  GtkWidget *toggle;
  gboolean   ok;

  gimp_ui_init (PLUG_IN_BINARY, FALSE);
  d.ctx = ns_restyle_open (vals->params.device, NULL);

  dialog = gimp_dialog_new (_("Neural Style"), PLUG_IN_ROLE, NULL, 0,
                            gimp_standard_help_func, PLUG_IN_PROC,
                            _("_Cancel"), GTK_RESPONSE_CANCEL,
                            _("_OK"),     GTK_RESPONSE_OK,
                            NULL);
  gtk_dialog_set_alternative_button_order (GTK_DIALOG (dialog), GTK_RESPONSE_OK,
                                            GTK_RESPONSE_CANCEL, -1);
  gimp_window_set_transient (GTK_WINDOW (dialog));

  vbox = gtk_vbox_new (FALSE, 12);
  gtk_container_set_border_width (GTK_CONTAINER (vbox), 12);
  gtk_box_pack_start (GTK_BOX (gtk_dialog_get_content_area (GTK_DIALOG (dialog))), vbox, TRUE, TRUE, 0);

  table = gtk_table_new (13, 3, FALSE);
  gtk_table_set_col_spacings (GTK_TABLE (table), 6);
  gtk_table_set_row_spacings (GTK_TABLE (table), 4);
  gtk_box_pack_start (GTK_BOX (vbox), table, FALSE, FALSE, 0);

  combo = gimp_layer_combo_box_new (style_constraint, &d);
  if (! style_constraint (image, vals->style_layer, &d) || ! gimp_item_is_valid (vals->style_layer))
    vals->style_layer = -1;
  gimp_int_combo_box_connect (GIMP_INT_COMBO_BOX (combo), vals->style_layer,
                              G_CALLBACK (combo_changed), &vals->style_layer);
  g_object_set_data (G_OBJECT (combo), "dialog", &d);
  gimp_int_combo_box_get_active (GIMP_INT_COMBO_BOX (combo), &vals->style_layer);
  gimp_table_attach_aligned (GTK_TABLE (table), 0, 0, _("St_yle layer:"), 0.0, 0.5, combo, 2, FALSE);

  scale_row (&d, GTK_TABLE (table), 1, _("_Iterations:"), vals->params.iterations, 0, 2000, 0,
             _("Optimization steps; 100-300 is usually enough"), G_CALLBACK (int_changed),
             &vals->params.iterations);
  scale_row (&d, GTK_TABLE (table), 2, _("Si_ze:"), vals->params.size, 0, 4096, 0,
             _("Longest side in pixels at which to optimize (0 = the layer's own size); "
               "the result is scaled back to the layer"), G_CALLBACK (int_changed),
             &vals->params.size);
  scale_row (&d, GTK_TABLE (table), 3, _("Co_ntent weight:"), vals->params.content_weight, 0, 100, 2,
             _("How strongly the result keeps the content layer's shapes"),
             G_CALLBACK (double_changed), &vals->params.content_weight);
  scale_row (&d, GTK_TABLE (table), 4, _("Style _weight:"), vals->params.style_weight, 0, 10000, 1,
             _("How strongly the result takes the style layer's colors and brushwork"),
             G_CALLBACK (double_changed), &vals->params.style_weight);
  scale_row (&d, GTK_TABLE (table), 5, _("S_moothness (TV) weight:"), vals->params.tv_weight, 0, 1000, 1,
             _("Total-variation weight: higher values give smoother, less noisy results"),
             G_CALLBACK (double_changed), &vals->params.tv_weight);
  scale_row (&d, GTK_TABLE (table), 6, _("Style sc_ale:"), vals->params.style_scale, 0.05, 8, 2,
             _("Size of the style relative to the content: larger values give larger brush strokes"),
             G_CALLBACK (double_changed), &vals->params.style_scale);
  combo_row (&d, GTK_TABLE (table), 7, _("Op_timizer:"),
             gimp_int_combo_box_new (_("L-BFGS (best quality)"), NS_OPTIMIZER_CHOICE_LBFGS,
                                     _("Adam"), NS_OPTIMIZER_CHOICE_ADAM, NULL),
             &vals->params.optimizer);
  combo_row (&d, GTK_TABLE (table), 8, _("Start _from:"),
             gimp_int_combo_box_new (_("Content layer"), NS_INIT_CHOICE_CONTENT,
                                     _("Noise"), NS_INIT_CHOICE_NOISE, NULL),
             &vals->params.init);
  combo_row (&d, GTK_TABLE (table), 9, _("_Device:"),
             gimp_int_combo_box_new (_("Automatic (GPU if available)"), NS_DEVICE_CHOICE_AUTO,
                                     _("CPU"), NS_DEVICE_CHOICE_CPU,
                                     _("GPU (CUDA)"), NS_DEVICE_CHOICE_GPU, NULL),
             &vals->params.device);
  scale_row (&d, GTK_TABLE (table), 10, _("S_eed:"), vals->params.seed, 0, 1000000, 0,
             _("Random seed for the noise start"), G_CALLBACK (int_changed), &vals->params.seed);

  toggle = gtk_check_button_new_with_mnemonic (_("_Preserve the content's colors"));
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (toggle), vals->params.preserve_colors);
  g_signal_connect (toggle, "toggled", G_CALLBACK (toggle_changed), &vals->params.preserve_colors);
  gtk_box_pack_start (GTK_BOX (vbox), toggle, FALSE, FALSE, 0);

  d.estimate = gtk_label_new ("");
  gtk_label_set_line_wrap (GTK_LABEL (d.estimate), TRUE);
  gtk_misc_set_alignment (GTK_MISC (d.estimate), 0.0, 0.5);
  gtk_box_pack_start (GTK_BOX (vbox), d.estimate, FALSE, FALSE, 0);
  update_estimate (&d);

  gtk_widget_show_all (dialog);
  ns_restyle_test_response (GTK_DIALOG (dialog));
  ok = gimp_dialog_run (GIMP_DIALOG (dialog)) == GTK_RESPONSE_OK;
  gtk_widget_destroy (dialog);
  ns_context_free (d.ctx);
  return ok;
}

/* ---- run ---- */

static gboolean
progress_update (gdouble      fraction,
                 const gchar *text,
                 gpointer     data)
{
  gimp_progress_set_text (text);
  gimp_progress_update (fraction);
  return TRUE;  /* GIMP 2.10 cancels a plug-in by ending its process */
}

static gboolean
check_layers (gint32   image,
              gint32   content,
              gint32   style,
              GError **error)
{
  NsLayerFacts f = { 0, };

  f.content_is_layer = gimp_item_is_valid (content) && gimp_item_is_layer (content) &&
                       gimp_item_get_image (content) == image;
  f.indexed          = gimp_image_base_type (image) == GIMP_INDEXED;
  f.style_is_layer   = gimp_item_is_valid (style) && gimp_item_is_layer (style);
  f.style_in_image   = f.style_is_layer && gimp_item_get_image (style) == image;
  f.same_layer       = style == content;
  if (f.content_is_layer)
    {
      f.content_width  = gimp_drawable_width (content);
      f.content_height = gimp_drawable_height (content);
    }
  if (f.style_is_layer)
    {
      f.style_width  = gimp_drawable_width (style);
      f.style_height = gimp_drawable_height (style);
    }
  return ns_restyle_check_layers (&f, error);
}

static gint32
restyle (gint32                 image,
         gint32                 content,
         gint32                 style,
         const NsRestyleParams *params,
         GError               **error)
{
  struct ns_context *ctx;
  GeglBuffer        *content_buf;
  GeglBuffer        *style_buf;
  GeglBuffer        *mask    = NULL;
  GeglBuffer        *result;
  GeglRectangle      area;
  gint               ox, oy;
  gint32             layer   = -1;
  gchar             *name;

  if (! gimp_drawable_mask_intersect (content, &area.x, &area.y, &area.width, &area.height))
    {
      g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_INVALID,
                   _("The selection does not touch the content layer."));
      return -1;
    }

  if (! (ctx = ns_restyle_open (params->device, error)))
    return -1;

  gimp_drawable_offsets (content, &ox, &oy);
  content_buf = gimp_drawable_get_buffer (content);
  style_buf   = gimp_drawable_get_buffer (style);
  if (! gimp_selection_is_empty (image))
    mask = gimp_drawable_get_buffer (gimp_image_get_selection (image));

  gimp_progress_init (_("Neural Style"));
  result = ns_restyle (ctx, content_buf, &area, mask, ox, oy, style_buf, params,
                       progress_update, NULL, error);

  if (result)
    {
      GeglBuffer *buf;

      name = ns_restyle_layer_name (gimp_item_get_name (style));
      gimp_image_undo_group_start (image);
      layer = gimp_layer_new (image, name,
                              gimp_drawable_width (content), gimp_drawable_height (content),
                              gimp_drawable_type (content), 100.0, GIMP_LAYER_MODE_NORMAL);
      gimp_image_insert_layer (image, layer, gimp_item_get_parent (content),
                               gimp_image_get_item_position (image, content));
      gimp_layer_set_offsets (layer, ox, oy);
      buf = gimp_drawable_get_buffer (layer);
      gegl_buffer_copy (result, NULL, GEGL_ABYSS_NONE, buf, NULL);
      g_object_unref (buf);
      gimp_drawable_update (layer, 0, 0, gimp_drawable_width (layer), gimp_drawable_height (layer));
      gimp_image_undo_group_end (image);
      g_free (name);
      g_object_unref (result);
    }

  gimp_progress_end ();
  if (mask)
    g_object_unref (mask);
  g_object_unref (content_buf);
  g_object_unref (style_buf);
  ns_context_free (ctx);
  return layer;
}

static void
read_args (const GimpParam *param,
           LastValues      *vals)
{
  vals->style_layer            = param[3].data.d_layer;
  vals->params.iterations      = param[4].data.d_int32;
  vals->params.size            = param[5].data.d_int32;
  vals->params.content_weight  = param[6].data.d_float;
  vals->params.style_weight    = param[7].data.d_float;
  vals->params.tv_weight       = param[8].data.d_float;
  vals->params.optimizer       = param[9].data.d_int32;
  vals->params.init            = param[10].data.d_int32;
  vals->params.preserve_colors = param[11].data.d_int32 != 0;
  vals->params.style_scale     = param[12].data.d_float;
  vals->params.seed            = param[13].data.d_int32;
  vals->params.device          = param[14].data.d_int32;
}

static GimpPDBStatusType
status_of (const GError *error)
{
  if (error->domain == NS_RESTYLE_ERROR && error->code == NS_RESTYLE_ERROR_CANCELLED)
    return GIMP_PDB_CANCEL;
  if (error->domain == NS_RESTYLE_ERROR && error->code == NS_RESTYLE_ERROR_INVALID)
    return GIMP_PDB_CALLING_ERROR;
  return GIMP_PDB_EXECUTION_ERROR;
}

static void
run (const gchar      *name,
     gint              nparams,
     const GimpParam  *param,
     gint             *nreturn_vals,
     GimpParam       **return_vals)
{
  static GimpParam  values[2];
  GimpRunMode       run_mode = param[0].data.d_int32;
  gint32            image    = param[1].data.d_image;
  gint32            content  = param[2].data.d_drawable;
  LastValues        vals     = { ns_restyle_defaults (), -1 };
  GError           *error    = NULL;
  gint32            layer    = -1;

  ns_restyle_init_i18n ();
  gegl_init (NULL, NULL);

  *nreturn_vals = 1;
  *return_vals  = values;
  values[0].type          = GIMP_PDB_STATUS;
  values[0].data.d_status = GIMP_PDB_SUCCESS;

  switch (run_mode)
    {
    case GIMP_RUN_INTERACTIVE:
      gimp_get_data (PLUG_IN_PROC, &vals);
      /* a script that passes every argument gets them as the dialog's start */
      if (nparams == N_ARGS)
        read_args (param, &vals);
      if (! show_dialog (&vals, image, content))
        {
          values[0].data.d_status = GIMP_PDB_CANCEL;
          return;
        }
      break;

    case GIMP_RUN_NONINTERACTIVE:
      if (nparams != N_ARGS)
        {
          g_set_error (&error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_INVALID,
                       _("Neural Style takes %d arguments, not %d."), N_ARGS, nparams);
          break;
        }
      read_args (param, &vals);
      break;

    case GIMP_RUN_WITH_LAST_VALS:
      gimp_get_data (PLUG_IN_PROC, &vals);
      break;
    }

  if (! error &&
      ns_restyle_check_params (&vals.params, &error) &&
      check_layers (image, content, vals.style_layer, &error))
    {
      layer = restyle (image, content, vals.style_layer, &vals.params, &error);
    }

  if (layer != -1)
    {
      if (run_mode == GIMP_RUN_INTERACTIVE)
        gimp_set_data (PLUG_IN_PROC, &vals, sizeof vals);
      if (run_mode != GIMP_RUN_NONINTERACTIVE)
        gimp_displays_flush ();
      *nreturn_vals = 2;
      values[1].type         = GIMP_PDB_LAYER;
      values[1].data.d_layer = layer;
    }
  else if (error)
    {
      values[0].data.d_status = status_of (error);
      *nreturn_vals = 2;
      values[1].type          = GIMP_PDB_STRING;
      values[1].data.d_string = g_strdup (error->message);
      /* GIMP shows the message of a failed interactive run itself */
      g_error_free (error);
    }
}
