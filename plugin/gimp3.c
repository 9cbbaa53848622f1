/* gimp3.c - the GIMP 3.0 plug-in: Filters > Artistic > Neural Style...
 *
 * PDB: plug-in-neural-style (run-mode, image, drawables, style-layer,
 * iterations, size, content-weight, style-weight, tv-weight, optimizer,
 * init, preserve-colors, style-scale, seed, device) -> new-layer, where
 * optimizer, init and device are GimpChoice values ("lbfgs"/"adam",
 * "content"/"noise", "auto"/"cpu"/"gpu").
 */
#include "config.h"

#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>
#include <glib/gi18n-lib.h>

#include "ns.h"
#include "restyle.h"

typedef struct _NeuralStyle      NeuralStyle;
typedef struct _NeuralStyleClass NeuralStyleClass;

struct _NeuralStyle
{
  GimpPlugIn parent_instance;
};

struct _NeuralStyleClass
{
  GimpPlugInClass parent_class;
};

#define NEURAL_STYLE_TYPE (neural_style_get_type ())

GType                   neural_style_get_type (void) G_GNUC_CONST;
static GList          * neural_style_query_procedures (GimpPlugIn           *plug_in);
static GimpProcedure  * neural_style_create_procedure (GimpPlugIn           *plug_in,
                                             const gchar          *name);
static gboolean         neural_style_set_i18n         (GimpPlugIn           *plug_in,
                                             const gchar          *procedure_name,
                                             gchar               **gettext_domain,
                                             gchar               **catalog_dir);
static GimpValueArray * neural_style_run              (GimpProcedure        *procedure,
                                             GimpRunMode           run_mode,
                                             GimpImage            *image,
                                             GimpDrawable        **drawables,
                                             GimpProcedureConfig  *config,
                                             gpointer              run_data);

G_DEFINE_TYPE (NeuralStyle, neural_style, GIMP_TYPE_PLUG_IN)

GIMP_MAIN (NEURAL_STYLE_TYPE)

static void
neural_style_class_init (NeuralStyleClass *klass)
{
  GimpPlugInClass *plug_in_class = GIMP_PLUG_IN_CLASS (klass);

  plug_in_class->query_procedures = neural_style_query_procedures;
  plug_in_class->create_procedure = neural_style_create_procedure;
  plug_in_class->set_i18n         = neural_style_set_i18n;
}

static void
neural_style_init (NeuralStyle *plugin)
{
}

static GList *
neural_style_query_procedures (GimpPlugIn *plug_in)
{
  return g_list_append (NULL, g_strdup (PLUG_IN_PROC));
}

/* The same catalogue and folder as the GIMP 2.10 plug-in: locale/ beside
 * the binary, domain gimp-neural-style. */
static gboolean
neural_style_set_i18n (GimpPlugIn   *plug_in,
             const gchar  *procedure_name,
             gchar       **gettext_domain,
             gchar       **catalog_dir)
{
  *gettext_domain = g_strdup (GETTEXT_PACKAGE);
  *catalog_dir    = g_strdup ("locale");
  return TRUE;
}

static GimpProcedure *
neural_style_create_procedure (GimpPlugIn  *plug_in,
                     const gchar *name)
{
  GimpProcedure  *procedure;
  NsRestyleParams def = ns_restyle_defaults ();

  if (g_strcmp0 (name, PLUG_IN_PROC) != 0)
    return NULL;

  procedure = gimp_image_procedure_new (plug_in, name, GIMP_PDB_PROC_TYPE_PLUGIN,
                                        neural_style_run, NULL, NULL);

  gimp_procedure_set_image_types (procedure, "RGB*, GRAY*");
  gimp_procedure_set_sensitivity_mask (procedure, GIMP_PROCEDURE_SENSITIVE_DRAWABLE);
  gimp_procedure_set_menu_label (procedure, _("_Neural Style..."));
  gimp_procedure_add_menu_path (procedure, "<Image>/Filters/Artistic");
  gimp_procedure_set_documentation (procedure,
                                    _("Restyle a layer after a painting (neural style transfer)"),
                                    "Optimizes a new layer so that its VGG-19 features match "
                                    "the content layer and its Gram matrices match the style "
                                    "layer (Gatys, Ecker & Bethge 2016). The result lands in a "
                                    "new layer above the content layer; with a selection only "
                                    "the selected part is restyled.",
                                    name);
  gimp_procedure_set_attribution (procedure, "Neural Style for GIMP developers",
                                  "Neural Style for GIMP developers", "2026");

  gimp_procedure_add_layer_argument (procedure, "style-layer", _("St_yle layer"),
                                     _("The painting: another layer of the same image"),
                                     TRUE, G_PARAM_READWRITE);
  gimp_procedure_add_int_argument (procedure, "iterations", _("_Iterations"),
                                   _("Optimization steps; 100-300 is usually enough"),
                                   0, 100000, def.iterations, G_PARAM_READWRITE);
  gimp_procedure_add_int_argument (procedure, "size", _("Si_ze"),
                                   _("Longest side in pixels at which to optimize (0 = the layer's "
                                     "own size); the result is scaled back to the layer"),
                                   0, 16384, def.size, G_PARAM_READWRITE);
  gimp_procedure_add_double_argument (procedure, "content-weight", _("Co_ntent weight"),
                                      _("How strongly the result keeps the content layer's shapes"),
                                      0.0, 1e6, def.content_weight, G_PARAM_READWRITE);
  gimp_procedure_add_double_argument (procedure, "style-weight", _("Style _weight"),
                                      _("How strongly the result takes the style layer's colors "
                                        "and brushwork"),
                                      0.0, 1e9, def.style_weight, G_PARAM_READWRITE);
  gimp_procedure_add_double_argument (procedure, "tv-weight", _("S_moothness (TV) weight"),
                                      _("Total-variation weight: higher values give smoother, less "
                                        "noisy results"),
                                      0.0, 1e6, def.tv_weight, G_PARAM_READWRITE);
  gimp_procedure_add_choice_argument (procedure, "optimizer", _("Op_timizer"),
                                      _("The optimization method"),
                                      gimp_choice_new_with_values ("lbfgs", NS_OPTIMIZER_CHOICE_LBFGS,
                                                                   _("L-BFGS (best quality)"), NULL,
                                                                   "adam", NS_OPTIMIZER_CHOICE_ADAM,
                                                                   _("Adam"), NULL,
                                                                   NULL),
                                      "lbfgs", G_PARAM_READWRITE);
  gimp_procedure_add_choice_argument (procedure, "init", _("Start _from"),
                                      _("The image the optimization starts from"),
                                      gimp_choice_new_with_values ("content", NS_INIT_CHOICE_CONTENT,
                                                                   _("Content layer"), NULL,
                                                                   "noise", NS_INIT_CHOICE_NOISE,
                                                                   _("Noise"), NULL,
                                                                   NULL),
                                      "content", G_PARAM_READWRITE);
  gimp_procedure_add_boolean_argument (procedure, "preserve-colors",
                                       _("_Preserve the content's colors"),
                                       _("Take only the painting's texture and keep the content's colors"),
                                       def.preserve_colors, G_PARAM_READWRITE);
  gimp_procedure_add_double_argument (procedure, "style-scale", _("Style sc_ale"),
                                      _("Size of the style relative to the content: larger values "
                                        "give larger brush strokes"),
                                      0.05, 8.0, def.style_scale, G_PARAM_READWRITE);
  gimp_procedure_add_int_argument (procedure, "seed", _("S_eed"),
                                   _("Random seed for the noise start"),
                                   0, G_MAXINT, def.seed, G_PARAM_READWRITE);
  gimp_procedure_add_choice_argument (procedure, "device", _("_Device"),
                                      _("Where to compute"),
                                      gimp_choice_new_with_values ("auto", NS_DEVICE_CHOICE_AUTO,
                                                                   _("Automatic (GPU if available)"), NULL,
                                                                   "cpu", NS_DEVICE_CHOICE_CPU,
                                                                   _("CPU"), NULL,
                                                                   "gpu", NS_DEVICE_CHOICE_GPU,
                                                                   _("GPU (CUDA)"), NULL,
                                                                   NULL),
                                      "auto", G_PARAM_READWRITE);

  gimp_procedure_add_layer_return_value (procedure, "new-layer", _("New layer"),
                                         _("The restyled layer, above the content layer"),
                                         FALSE, G_PARAM_READWRITE);

  return procedure;
}

static NsRestyleParams
params_from_config (GimpProcedureConfig *config)
{
  NsRestyleParams p = ns_restyle_defaults ();

  g_object_get (config,
                "iterations",      &p.iterations,
                "size",            &p.size,
                "content-weight",  &p.content_weight,
                "style-weight",    &p.style_weight,
                "tv-weight",       &p.tv_weight,
                "preserve-colors", &p.preserve_colors,
                "style-scale",     &p.style_scale,
                "seed",            &p.seed,
                NULL);
  p.optimizer = gimp_procedure_config_get_choice_id (config, "optimizer");
  p.init      = gimp_procedure_config_get_choice_id (config, "init");
  p.device    = gimp_procedure_config_get_choice_id (config, "device");

  return p;
}

/* ---- dialog ---- */

typedef struct
{
  GimpProcedureConfig *config;
  GimpDrawable        *content;
  GtkWidget           *estimate;
  struct ns_context   *ctx;
} Dialog;

static void
update_estimate (Dialog *d)
{
  NsRestyleParams  p     = params_from_config (d->config);
  GimpLayer       *style = NULL;
  gint             sw    = 0, sh = 0;
  gchar           *text;

  g_object_get (d->config, "style-layer", &style, NULL);
  if (style)
    {
      sw = gimp_drawable_get_width (GIMP_DRAWABLE (style));
      sh = gimp_drawable_get_height (GIMP_DRAWABLE (style));
      g_object_unref (style);
    }
  text = ns_restyle_estimate (d->ctx, &p,
                              gimp_drawable_get_width (d->content),
                              gimp_drawable_get_height (d->content), sw, sh);
  gtk_label_set_text (GTK_LABEL (d->estimate), text);
  g_free (text);
}

static void
config_changed (GObject    *config,
                GParamSpec *pspec,
                Dialog     *d)
{
  update_estimate (d);
}

static gboolean
show_dialog (GimpProcedure       *procedure,
             GimpProcedureConfig *config,
             GimpImage           *image,
             GimpDrawable        *content)
{
  Dialog     d = { config, content, NULL, NULL };
  GtkWidget *dialog;
  GimpLayer *style = NULL;
  gboolean   ok;

  gimp_ui_init (PLUG_IN_BINARY);

  /* start with a style layer: the last one if it is still in this image,
   * else the layer next to the content */
  g_object_get (config, "style-layer", &style, NULL);
  if (! style || gimp_item_get_image (GIMP_ITEM (style)) != image ||
      GIMP_DRAWABLE (style) == content)
    {
      GimpLayer **layers = gimp_image_get_layers (image);
      gint        i;

      g_clear_object (&style);
      for (i = 0; layers && layers[i]; i++)
        if (GIMP_DRAWABLE (layers[i]) != content)
          {
            style = g_object_ref (layers[i]);
            break;
          }
      g_free (layers);
      g_object_set (config, "style-layer", style, NULL);
    }
  g_clear_object (&style);

  d.ctx  = ns_restyle_open (gimp_procedure_config_get_choice_id (config, "device"), NULL);
  dialog = gimp_procedure_dialog_new (procedure, config, _("Neural Style"));
  d.estimate = gimp_procedure_dialog_get_label (GIMP_PROCEDURE_DIALOG (dialog), "estimate",
                                                "", FALSE, FALSE);
  gtk_label_set_line_wrap (GTK_LABEL (d.estimate), TRUE);
  gtk_label_set_xalign (GTK_LABEL (d.estimate), 0.0);
  gimp_procedure_dialog_fill (GIMP_PROCEDURE_DIALOG (dialog),
                              "style-layer", "iterations", "size",
                              "content-weight", "style-weight", "tv-weight",
                              "style-scale", "preserve-colors",
                              "optimizer", "init", "device", "seed",
                              "estimate", NULL);
  update_estimate (&d);
  g_signal_connect (config, "notify", G_CALLBACK (config_changed), &d);

  ns_restyle_test_response (GTK_DIALOG (dialog));
  ok = gimp_procedure_dialog_run (GIMP_PROCEDURE_DIALOG (dialog));

  g_signal_handlers_disconnect_by_func (config, config_changed, &d);
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
  return TRUE;  /* GIMP cancels a plug-in's run by ending its process */
}

static GimpLayer *
restyle (GimpImage             *image,
         GimpDrawable          *content,
         GimpLayer             *style,
         const NsRestyleParams *params,
         GError               **error)
{
  struct ns_context *ctx;
  GeglBuffer        *content_buf;
  GeglBuffer        *style_buf;
  GeglBuffer        *mask  = NULL;
  GeglBuffer        *result;
  GeglRectangle      area;
  gint               ox, oy;
  GimpLayer         *layer = NULL;

  if (! gimp_drawable_mask_intersect (content, &area.x, &area.y, &area.width, &area.height))
    {
      g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_INVALID,
                   _("The selection does not touch the content layer."));
      return NULL;
    }

  if (! (ctx = ns_restyle_open (params->device, error)))
    return NULL;

  gimp_drawable_get_offsets (content, &ox, &oy);
  content_buf = gimp_drawable_get_buffer (content);
  style_buf   = gimp_drawable_get_buffer (GIMP_DRAWABLE (style));
  if (! gimp_selection_is_empty (image))
    mask = gimp_drawable_get_buffer (GIMP_DRAWABLE (gimp_image_get_selection (image)));

  gimp_progress_init (_("Neural Style"));
  result = ns_restyle (ctx, content_buf, &area, mask, ox, oy, style_buf, params,
                       progress_update, NULL, error);

  if (result)
    {
      gchar      *name = ns_restyle_layer_name (gimp_item_get_name (GIMP_ITEM (style)));
      GeglBuffer *buf;

      gimp_image_undo_group_start (image);
      layer = gimp_layer_new (image, name,
                              gimp_drawable_get_width (content),
                              gimp_drawable_get_height (content),
                              gimp_drawable_type (content), 100.0,
                              GIMP_LAYER_MODE_NORMAL);
      gimp_image_insert_layer (image, layer,
                               GIMP_LAYER (gimp_item_get_parent (GIMP_ITEM (content))),
                               gimp_image_get_item_position (image, GIMP_ITEM (content)));
      gimp_layer_set_offsets (layer, ox, oy);
      buf = gimp_drawable_get_buffer (GIMP_DRAWABLE (layer));
      gegl_buffer_copy (result, NULL, GEGL_ABYSS_NONE, buf, NULL);
      g_object_unref (buf);
      gimp_drawable_update (GIMP_DRAWABLE (layer), 0, 0,
                            gimp_drawable_get_width (GIMP_DRAWABLE (layer)),
                            gimp_drawable_get_height (GIMP_DRAWABLE (layer)));
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

static GimpPDBStatusType
status_of (const GError *error)
{
  if (error->domain == NS_RESTYLE_ERROR && error->code == NS_RESTYLE_ERROR_CANCELLED)
    return GIMP_PDB_CANCEL;
  if (error->domain == NS_RESTYLE_ERROR && error->code == NS_RESTYLE_ERROR_INVALID)
    return GIMP_PDB_CALLING_ERROR;
  return GIMP_PDB_EXECUTION_ERROR;
}

static GimpValueArray *
neural_style_run (GimpProcedure        *procedure,
        GimpRunMode           run_mode,
        GimpImage            *image,
        GimpDrawable        **drawables,
        GimpProcedureConfig  *config,
        gpointer              run_data)
{
  GimpDrawable    *content = NULL;
  GimpLayer       *style   = NULL;
  GimpLayer       *layer   = NULL;
  GError          *error   = NULL;
  GimpValueArray  *values;
  NsRestyleParams  params;
  NsLayerFacts     f       = { 0, };
  gint             n       = 0;

  gegl_init (NULL, NULL);

  while (drawables && drawables[n])
    n++;
  if (n == 1)
    content = drawables[0];

  if (run_mode == GIMP_RUN_INTERACTIVE && content &&
      ! show_dialog (procedure, config, image, content))
    return gimp_procedure_new_return_values (procedure, GIMP_PDB_CANCEL, NULL);

  params = params_from_config (config);
  g_object_get (config, "style-layer", &style, NULL);

  f.content_is_layer = content && GIMP_IS_LAYER (content) &&
                       gimp_item_get_image (GIMP_ITEM (content)) == image;
  f.indexed          = gimp_image_get_base_type (image) == GIMP_INDEXED;
  f.style_is_layer   = style != NULL;
  f.style_in_image   = style && gimp_item_get_image (GIMP_ITEM (style)) == image;
  f.same_layer       = style && GIMP_DRAWABLE (style) == content;
  if (f.content_is_layer)
    {
      f.content_width  = gimp_drawable_get_width (content);
      f.content_height = gimp_drawable_get_height (content);
    }
  if (style)
    {
      f.style_width  = gimp_drawable_get_width (GIMP_DRAWABLE (style));
      f.style_height = gimp_drawable_get_height (GIMP_DRAWABLE (style));
    }

  if (ns_restyle_check_params (&params, &error) &&
      ns_restyle_check_layers (&f, &error))
    layer = restyle (image, content, style, &params, &error);

  g_clear_object (&style);

  if (! layer)
    return gimp_procedure_new_return_values (procedure, status_of (error), error);

  if (run_mode != GIMP_RUN_NONINTERACTIVE)
    gimp_displays_flush ();

  values = gimp_procedure_new_return_values (procedure, GIMP_PDB_SUCCESS, NULL);
  GIMP_VALUES_SET_LAYER (values, 1, layer);
  return values;
}
